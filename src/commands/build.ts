import type { Command } from 'commander';
import { addRecipeFlags } from '../acquire/acquire-flags.ts';
import { UserError } from '../errors.ts';
import type { BuildFlags } from '../pipeline/load-build.ts';
import { parseMachine } from '../boot-test/machines.ts';
import { COMMAND_SUMMARIES } from './command-table.ts';

interface BuildCommandFlags extends BuildFlags {
  output?: string;
  backend: string;
  // true, or the machine to emulate.
  bootTest?: boolean | string;
  only?: string[];
  secrets?: string;
  kubeconfigMerge?: boolean;
}

// `pikube build`: the main job, recipe in; image, OUTPUT.sha256 (and OUTPUT.kubeconfig with Kubernetes) out.
export function registerBuildCommand(program: Command): void {
  const command = program
    .command('build')
    .description(COMMAND_SUMMARIES['build'])
    .option('-o, --output <file>', 'the image to write (default: the recipe name with .img); with `cluster:` a folder (default: the recipe name)')
    .option('--backend <name>', 'how ext4 is edited: debugfs (no root) or mount (root, kernel driver)', 'debugfs')
    .option('--boot-test [machine]', 'then boot a copy in QEMU and check its first boot (see pikube boot-test; machine raspi3b, raspi2b or virt)')
    .option('--only <hostname...>', 'with `cluster:`, write only these cards (new or changed); keep the others as DIR has them')
    .option('--secrets <dir>', 'with `cluster:`, the folder that keeps the cluster\'s CAs, tokens and node keys (default: cluster.secrets, else DIR/secrets)')
    .option('--kubeconfig-merge', 'also merge the admin kubeconfig into the first file of $KUBECONFIG (else ~/.kube/config) as a context named after the cluster, backed up first');
  addRecipeFlags(command).action(async (flags: BuildCommandFlags) => {
    const backend = checkBackendName(flags.backend);
    const bootMachine = typeof flags.bootTest === 'string' ? parseMachine(flags.bootTest) : undefined;
    // The first action (reading and checking the recipe) waits for no module it does not need: the pipeline's
    // stages are loaded when they run.
    const { buildRecipe } = await import('../pipeline/build-recipe.ts');
    await buildRecipe({ ...flags, backend, bootTest: Boolean(flags.bootTest), ...(bootMachine ? { bootMachine } : {}) });
  });
}

function checkBackendName(name: string): 'debugfs' | 'mount' {
  if (name === 'debugfs' || name === 'mount') return name;
  throw new UserError(`unknown backend "${name}"`, 'use --backend debugfs (default, no root) or --backend mount (root)');
}
