import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatInspection, inspectImage } from '../image/inspect-image.ts';
import { ensureTools } from '../tools/check-tools.ts';
import { COMMAND_SUMMARIES } from './command-table.ts';

// `pikube inspect IMAGE`: what an image is and, if pikube built it, from what.
export function registerInspectCommand(program: Command): void {
  program
    .command('inspect')
    .description(COMMAND_SUMMARIES['inspect'])
    .argument('<image>', 'a disk image file')
    .option('--json', 'print the result as JSON')
    .action(async (image: string, options: { json?: boolean }) => {
      await ensureTools('inspect');
      const inspection = await inspectImage(resolve(image));
      process.stdout.write(options.json ? `${JSON.stringify(inspection, null, 2)}\n` : formatInspection(inspection));
    });
}
