import { join } from 'node:path';
import { formatBytes } from '../format-bytes.ts';
import type { BuildSession } from '../gather/build-session.ts';
import type { ExtBackend } from '../image/backend.ts';
import { runSignal } from '../interrupt.ts';
import { log } from '../log.ts';
import { checkBuildOutputs } from './load-build.ts';
import { mergeAndReport, warnOnMdnsServer } from './report-kubeconfig.ts';
import { resolveClusterFolder, writeCluster } from './write-cluster.ts';

export interface ClusterBuildOptions {
  config: string;
  // The cluster folder (default: the recipe's name).
  output?: string;
  // Write only these cards (hostnames); the others are kept as the folder has them.
  only?: string[];
  // The secrets folder (--secrets), overriding cluster.secrets and DIR/secrets.
  secrets?: string;
  kubeconfigMerge?: boolean;
}

// A `cluster:` recipe: the folder (-o) checked against the inputs, every new or changed card written (see
// writeCluster), then what was built, kept or left out reported, with the order to flash the cards in.
export async function buildCluster(session: BuildSession, options: ClusterBuildOptions, backend: ExtBackend): Promise<void> {
  const output = resolveClusterFolder(options);
  await checkBuildOutputs(session, [{ path: output, role: 'the cluster folder (-o)' }]);
  const built = await writeCluster(session, output, backend, runSignal, { ...(options.only ? { only: options.only } : {}), ...(options.secrets ? { secrets: options.secrets } : {}) });
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
  if (options.kubeconfigMerge) await mergeAndReport(built.kubeconfig, built.name);
  process.stdout.write(`${built.dir}\n`);
}
