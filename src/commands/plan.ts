import type { Command } from 'commander';
import { preparePlan } from '../build/prepare-plan.ts';
import { formatPlan } from '../plan/format-plan.ts';
import { ensureTools } from '../tools/check-tools.ts';

// `pikube plan`: every entry the build would write, without touching anything.
export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('show every file, folder, symlink and partition change a build would make, without writing anything')
    .option('-c, --config <file>', 'the recipe', 'pikube.yaml')
    .option('--base <path>', 'use this base image instead of the recipe\'s')
    .option('--json', 'print the plan as JSON')
    .action(async (options: { config: string; base?: string; json?: boolean }) => {
      await ensureTools('plan');
      const { plan } = await preparePlan(options);
      process.stdout.write(options.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
    });
}
