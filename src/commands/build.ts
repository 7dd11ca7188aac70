import { readFile, stat } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { addRecipeFlags } from '../acquire/acquire-flags.ts';
import { checkBuildOutputs, loadBuild, unpackBase, type BuildFlags, type BuildSession } from '../pipeline/load-build.ts';
import { UserError } from '../errors.ts';
import { formatBytes } from '../format-bytes.ts';
import type { ExtBackend } from '../image/backend.ts';
import type { MergedKubeconfig } from '../pipeline/merge-kubeconfig.ts';
import { runSignal } from '../interrupt.ts';
import { log } from '../log.ts';
import { ensureTools } from '../tools/check-tools.ts';
import { parseMachine } from './boot-test.ts';
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
    // The first action (reading and checking the recipe) waits for no module it does not need: the pipeline's
    // stages are loaded when they run.
    const backendName = checkBackendName(flags.backend);
    const bootMachine = typeof flags.bootTest === 'string' ? parseMachine(flags.bootTest) : undefined;
    // Both emulators (one Debian package): which one boots depends on the image, known only once it is built.
    if (flags.bootTest) await ensureTools('boot-test', { include: ['qemu-system-aarch64', 'qemu-system-arm'] });
    await ensureTools('build', { include: backendName === 'mount' ? ['losetup', 'mount', 'umount'] : [] });
    const session = await loadBuild(flags);
    const backend = await loadBackend(backendName);
    if (!session.loaded.recipe.cluster && (flags.only || flags.secrets)) {
      throw new UserError(`${flags.only ? '--only' : '--secrets'} is for a recipe with \`cluster:\``, 'a single-card recipe builds one image: leave the flag out');
    }
    if (session.loaded.recipe.cluster) {
      if (flags.bootTest) throw new UserError('--boot-test boots one image, and a cluster build makes several', 'build the cluster, then run `pikube boot-test DIR/HOSTNAME.img` for the card you want to check');
      await ensureTools('build', { include: ['ssh-keygen'] });
      await buildClusterCommand(session, flags, backend);
      return;
    }
    const output = resolve(flags.output ?? `${basename(flags.config, extname(flags.config))}.img`);
    if ((await stat(output).catch(() => undefined))?.isDirectory()) {
      throw new UserError(`${output} is a folder, and this recipe builds one image file`, `name the image file: -o ${join(flags.output ?? output, `${basename(flags.config, extname(flags.config))}.img`)} (a folder is the output of a \`cluster:\` recipe)`);
    }
    await checkBuildOutputs(session, ['', '.sha256', '.bmap', '.kubeconfig'].map((suffix) => ({ path: `${output}${suffix}`, role: suffix ? `the output's ${suffix} file` : 'the output (-o)' })));
    const [{ withBuildOutput }, { gatherAndPlanBuild }, { applyPlan }] = await Promise.all([import('../pipeline/build-output.ts'), import('../pipeline/plan-card.ts'), import('../image/apply-plan.ts')]);
    const built = await withBuildOutput(output, async ({ image, dir }) => {
      log.step(`writing the base image (${session.baseName})`);
      await unpackBase(session, image, runSignal);
      const { plan, kubeconfig } = await gatherAndPlanBuild(session, image, dir);
      await applyPlan(plan, image, backend, runSignal);
      return kubeconfig === undefined ? {} : { kubeconfig };
    }, runSignal);
    log.info(`built ${built.image} (${(built.size / 2 ** 20).toFixed(0)} MiB, sha256 ${built.sha256})`);
    if (built.kubeconfig) {
      log.info(`kubeconfig for this node: ${built.kubeconfig} (kubectl --kubeconfig ${built.kubeconfig} get nodes, once the Pi is up)`);
      await warnOnMdnsServer(built.kubeconfig);
    }
    if (flags.kubeconfigMerge) {
      if (!built.kubeconfig) throw new UserError('--kubeconfig-merge needs a Kubernetes node: this recipe has no `kubernetes:`', 'leave the flag out, or add `kubernetes:` and `hostname:` to the recipe');
      reportMerge(await (await import('../pipeline/merge-kubeconfig.ts')).mergeKubeconfig(built.kubeconfig, session.loaded.recipe.hostname ?? basename(output, extname(output))));
    }
    process.stdout.write(`${built.image}\n`);
    if (flags.bootTest) {
      log.step('boot test');
      const { bootAndReport } = await import('../boot-test/boot-and-report.ts');
      await bootAndReport({ image: built.image, ...(bootMachine ? { machine: bootMachine } : {}), timeoutSeconds: 600, nodeWaitSeconds: 60, signal: runSignal });
    }
  });
}

// A `cluster:` recipe: -o names a folder holding one image per card, cluster.kubeconfig and cluster.json.
async function buildClusterCommand(session: BuildSession, flags: BuildCommandFlags, backend: ExtBackend): Promise<void> {
  const output = resolve(flags.output ?? basename(flags.config, extname(flags.config)));
  await checkBuildOutputs(session, [{ path: output, role: 'the cluster folder (-o)' }]);
  const { buildCluster } = await import('../pipeline/write-cluster.ts');
  const built = await buildCluster(session, output, backend, runSignal, { ...(flags.only ? { only: flags.only } : {}), ...(flags.secrets ? { secrets: flags.secrets } : {}) });
  for (const node of built.nodes) {
    const what = `${node.image} for ${node.hostname} (${node.role}, ${formatBytes(node.size)}, ${formatBytes(node.mappedBytes)} to write, block map ${node.bmap})`;
    if (node.status === 'written') log.info(`built ${what}`);
    else if (node.status === 'unchanged') log.info(`kept ${what}: unchanged, no need to flash it again`);
    else log.warn(`kept ${node.image} as it was, but the recipe changes it: build it with --only ${node.hostname} (or without --only) to bring it up to date`);
  }
  if (built.skipped.length > 0) log.warn(`not built (left out by --only): ${built.skipped.join(', ')}`);
  log.info(`kubeconfig for the cluster: ${built.kubeconfig} (kubectl --kubeconfig ${built.kubeconfig} get nodes, once the server is up)`);
  log.info(`${built.secretsCreated ? 'made the cluster\'s secrets in' : 'cluster secrets kept in'} ${built.secrets}: keep this folder (and a backup of it) to add nodes later; never commit it or share it, it holds the CA keys and join tokens`);
  await warnOnMdnsServer(built.kubeconfig);
  const written = built.nodes.filter((node) => node.status === 'written').map((node) => node.hostname);
  if (written.length === built.nodes.length) log.info(`flash the cards in order: sudo pikube flash --cluster ${built.dir}`);
  else if (written.length > 0) log.info(`flash only the new or changed cards: ${written.map((host) => `sudo pikube flash ${join(built.dir, `${host}.img`)}`).join('; ')}`);
  if (flags.kubeconfigMerge) reportMerge(await (await import('../pipeline/merge-kubeconfig.ts')).mergeKubeconfig(built.kubeconfig, built.name));
  process.stdout.write(`${built.dir}\n`);
}

function reportMerge(merged: MergedKubeconfig): void {
  log.info(`merged the cluster into ${merged.path} as context ${merged.context}, now the current one${merged.backup ? ` (the file as it was: ${merged.backup})` : ''}: kubectl get nodes`);
}

async function warnOnMdnsServer(kubeconfig: string): Promise<void> {
  const { describeMdnsServer } = await import('../kube/kubeconfig.ts');
  const warning = describeMdnsServer(await readFile(kubeconfig, 'utf8'), kubeconfig);
  if (warning) log.warn(warning);
}

function checkBackendName(name: string): 'debugfs' | 'mount' {
  if (name === 'debugfs' || name === 'mount') return name;
  throw new UserError(`unknown backend "${name}"`, 'use --backend debugfs (default, no root) or --backend mount (root)');
}

async function loadBackend(name: 'debugfs' | 'mount'): Promise<ExtBackend> {
  return name === 'mount' ? (await import('../image/mount-backend.ts')).mountBackend : (await import('../image/debugfs-backend.ts')).debugfsBackend;
}
