import type { Command } from 'commander';
import { addRecipeFlags } from '../acquire/acquire-flags.ts';
import { planRecipe, type PlanOptions } from '../pipeline/plan-recipe.ts';
import { COMMAND_SUMMARIES } from './command-table.ts';

// `pikube plan`: every entry the build would write (for each card of a cluster), without touching the base or any output.
export function registerPlanCommand(program: Command): void {
  const command = program
    .command('plan')
    .description(COMMAND_SUMMARIES['plan'])
    .option('--json', 'print the plan as JSON')
    .option('-o, --output <dir>', 'with `cluster:`, the folder a build would write (default: the recipe name): each card says whether a build writes or keeps it')
    .option('--only <hostname...>', 'with `cluster:`, as `pikube build --only`')
    .option('--secrets <dir>', 'with `cluster:`, the secrets folder a build would use (default: cluster.secrets, else DIR/secrets); read, never written');
  addRecipeFlags(command).action(async (flags: PlanOptions) => {
    await planRecipe(flags);
  });
}
