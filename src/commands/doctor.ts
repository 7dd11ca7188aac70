import type { Command } from 'commander';
import { checkTools } from '../tools/check-tools.ts';
import { COMMAND_SUMMARIES } from './command-table.ts';

// `pikube doctor`: which host tools each command needs, whether they are here and new enough, and who provides them.
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(COMMAND_SUMMARIES['doctor'])
    .option('--json', 'print the result as JSON')
    .action(async (options: { json?: boolean }) => {
      const statuses = await checkTools();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(statuses.map((s) => ({
          tool: s.requirement.tool, found: s.found, version: s.version ?? null, minVersion: s.requirement.minVersion ?? null,
          newEnough: s.newEnough, debian: s.requirement.debian, homebrew: s.requirement.homebrew, commands: s.requirement.commands,
          optional: s.requirement.optional ?? null,
        })), null, 2)}\n`);
      } else {
        const rows = statuses.map((s) => [
          s.found ? (s.newEnough ? 'ok' : 'OLD') : 'MISSING',
          s.requirement.tool,
          s.version ?? '-',
          s.requirement.minVersion ? `>= ${s.requirement.minVersion}` : '',
          `apt: ${s.requirement.debian}`,
          `brew: ${s.requirement.homebrew}`,
          `for: ${s.requirement.commands.join(', ')}${s.requirement.optional ? ` (${s.requirement.optional})` : ''}`,
        ]);
        process.stdout.write(formatTable(rows));
      }
      const missing = statuses.filter((s) => !s.requirement.optional && (!s.found || !s.newEnough));
      if (missing.length > 0) process.exitCode = 1;
    });
}

// Left-aligned columns, for the human-readable listings of doctor, drives and cache.
export function formatTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length); });
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}
