import { readFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { addRecipeFlags } from '../acquire/acquire-flags.ts';
import { bootTestImage } from '../boot-test/print-report.ts';
import { withBuildOutput } from '../build/build-output.ts';
import { buildCluster } from '../build/build-cluster.ts';
import { loadBuild, unpackBase, type BuildFlags, type BuildSession } from '../build/load-build.ts';
import { planBuild } from '../build/plan-build.ts';
import { UserError } from '../errors.ts';
import { formatBytes } from '../format-bytes.ts';
import { applyPlan } from '../image/apply-plan.ts';
import type { ExtBackend } from '../image/backend.ts';
import { debugfsBackend } from '../image/debugfs-backend.ts';
import { mountBackend } from '../image/mount-backend.ts';
import { runSignal } from '../interrupt.ts';
import { describeMdnsServer } from '../kube/kubeconfig.ts';
import { log } from '../log.ts';
import { ensureTools } from '../tools/check-tools.ts';
import { parseMachine } from './boot-test.ts';

interface BuildCommandFlags extends BuildFlags {
  output?: string;
  backend: string;
  // true, or the machine to emulate.
  bootTest?: boolean | string;
}

// `pikube build`: the main job, recipe in; image, OUTPUT.sha256 (and OUTPUT.kubeconfig with Kubernetes) out.
export function registerBuildCommand(program: Command): void {
  const command = program
    .command('build')
    .description('build an image from the recipe: the base with every planned file written into its partitions')
    .option('-o, --output <file>', 'the image to write (default: the recipe name with .img); with `cluster:` a folder (default: the recipe name)')
    .option('--backend <name>', 'how ext4 is edited: debugfs (no root) or mount (root, kernel driver)', 'debugfs')
    .option('--boot-test [machine]', 'then boot a copy in QEMU and check its first boot (see pikube boot-test; machine raspi3b, raspi2b or virt)');
  addRecipeFlags(command).action(async (flags: BuildCommandFlags) => {
    const backend = pickBackend(flags.backend);
    const bootMachine = typeof flags.bootTest === 'string' ? parseMachine(flags.bootTest) : undefined;
    // Both emulators (one Debian package): which one boots depends on the image, known only once it is built.
    if (flags.bootTest) await ensureTools('boot-test', { include: ['qemu-system-aarch64', 'qemu-system-arm'] });
    await ensureTools('build', { include: backend.name === 'mount' ? ['losetup', 'mount', 'umount'] : [] });
    const session = await loadBuild(flags);
    if (session.loaded.recipe.cluster) {
      if (flags.bootTest) throw new UserError('--boot-test boots one image, and a cluster build makes several', 'build the cluster, then run `pikube boot-test DIR/HOSTNAME.img` for the card you want to check');
      await ensureTools('build', { include: ['ssh-keygen'] });
      await buildClusterCommand(session, flags, backend);
      return;
    }
    const output = resolve(flags.output ?? `${basename(flags.config, extname(flags.config))}.img`);
    if (output === session.archivePath) throw new UserError('the output is the base image itself', 'choose another -o FILE: pikube never edits its base in place');
    const built = await withBuildOutput(output, async ({ image, dir }) => {
      log.step(`writing the base image (${session.baseName})`);
      await unpackBase(session, image, runSignal);
      const { plan, kubeconfig } = await planBuild(session, image, dir);
      await applyPlan(plan, image, backend, runSignal);
      return kubeconfig === undefined ? {} : { kubeconfig };
    }, runSignal);
    log.info(`built ${built.image} (${(built.size / 2 ** 20).toFixed(0)} MiB, sha256 ${built.sha256})`);
    if (built.kubeconfig) {
      log.info(`kubeconfig for this node: ${built.kubeconfig} (kubectl --kubeconfig ${built.kubeconfig} get nodes, once the Pi is up)`);
      await warnOnMdnsServer(built.kubeconfig);
    }
    process.stdout.write(`${built.image}\n`);
    if (flags.bootTest) {
      log.step('boot test');
      await bootTestImage({ image: built.image, ...(bootMachine ? { machine: bootMachine } : {}), timeoutSeconds: 600, nodeWaitSeconds: 60, signal: runSignal });
    }
  });
}

// A `cluster:` recipe: -o names a folder holding one image per card, cluster.kubeconfig and cluster.json.
async function buildClusterCommand(session: BuildSession, flags: BuildCommandFlags, backend: ExtBackend): Promise<void> {
  const output = resolve(flags.output ?? basename(flags.config, extname(flags.config)));
  if (output === session.archivePath) throw new UserError('the output is the base image itself', 'choose another -o DIR: pikube never edits its base in place');
  const built = await buildCluster(session, output, backend, runSignal);
  for (const node of built.nodes) log.info(`built ${node.image} for ${node.hostname} (${node.role}, ${formatBytes(node.size)}, ${formatBytes(node.mappedBytes)} to write, block map ${node.bmap})`);
  log.info(`kubeconfig for the cluster: ${built.kubeconfig} (kubectl --kubeconfig ${built.kubeconfig} get nodes, once the server is up)`);
  await warnOnMdnsServer(built.kubeconfig);
  log.info(`flash the cards in order: sudo pikube flash --cluster ${built.dir}`);
  process.stdout.write(`${built.dir}\n`);
}

async function warnOnMdnsServer(kubeconfig: string): Promise<void> {
  const warning = describeMdnsServer(await readFile(kubeconfig, 'utf8'), kubeconfig);
  if (warning) log.warn(warning);
}

function pickBackend(name: string): ExtBackend {
  if (name === 'debugfs') return debugfsBackend;
  if (name === 'mount') return mountBackend;
  throw new UserError(`unknown backend "${name}"`, 'use --backend debugfs (default, no root) or --backend mount (root)');
}
