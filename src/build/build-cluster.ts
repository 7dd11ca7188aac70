import { chmod, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeImage } from '../acquire/write-image.ts';
import { InternalError } from '../errors.ts';
import { writeBmap } from '../flash/write-bmap.ts';
import type { ExtBackend } from '../image/backend.ts';
import { applyPlan } from '../image/apply-plan.ts';
import { throwIfInterrupted } from '../interrupt.ts';
import { makeAdminKubeconfig } from '../kube/plan-kubernetes.ts';
import { log } from '../log.ts';
import { splitSharedPlan } from '../plan/split-shared.ts';
import { copySparse } from '../tools/cp.ts';
import { sha256File } from '../tools/openssl.ts';
import { clusterServerUrl, listClusterNodes } from './cluster-nodes.ts';
import { CLUSTER_MANIFEST, withClusterOutput } from './cluster-output.ts';
import type { BuildSession } from './load-build.ts';
import { planNodeIdentity } from './node-identity.ts';
import { gatherBuild, planNode } from './plan-build.ts';

export interface BuiltNode {
  hostname: string;
  role: 'server' | 'agent';
  address?: string;
  // File names inside the output folder.
  image: string;
  sha256: string;
  size: number;
}

export interface BuiltCluster {
  dir: string;
  nodes: BuiltNode[];
  kubeconfig: string;
}

// `pikube build` for a `cluster:` recipe: the base is unpacked, the inputs gathered, the PKI made and every entry
// the cards share written once; each card is then a sparse copy of that image plus its own few entries
// (hostname, k3s role and config, network, machine id, SSH host keys), checked, hashed and block-mapped.
export async function buildCluster(session: BuildSession, output: string, backend: ExtBackend, signal: AbortSignal): Promise<BuiltCluster> {
  const { recipe } = session.loaded;
  const nodes = listClusterNodes(recipe);
  const servers = nodes.filter((node) => node.role === 'server').length;
  if (servers > 1 && servers % 2 === 0) log.warn(`${servers} servers: etcd needs a majority, so an even number tolerates no more failures than one fewer`);
  return withClusterOutput(output, async ({ out, scratch }) => {
    const identities = Promise.all(nodes.map((node) => planNodeIdentity(node.hostname, join(scratch, 'identity', node.hostname), signal)));
    identities.catch(() => undefined);
    const base = join(scratch, 'base.img');
    log.step(`writing the base image (${session.baseName}) once for ${nodes.length} cards`);
    await Promise.all([writeImage(session.archivePath, base, { ...(session.entry ? { entry: session.entry } : {}), signal }), session.base]);
    const gathered = await gatherBuild(session, base, scratch);
    const kubernetes = gathered.kubernetes;
    if (!kubernetes) throw new InternalError('a cluster recipe without kubernetes passed the recipe checks');
    const ids = await identities;
    const plans = nodes.map((node, i) => planNode(session, gathered, node.recipe, { role: node.kube, extraEntries: ids[i] ?? [] }));
    const { shared, nodes: own } = splitSharedPlan(plans);
    log.step(`writing what every card shares (${shared.entries.length} entries)`);
    await applyPlan(shared, base, backend, signal);
    const built: BuiltNode[] = [];
    const finishing: Array<Promise<void>> = [];
    try {
      for (const [i, node] of nodes.entries()) {
        throwIfInterrupted(signal);
        const name = `${node.hostname}.img`;
        const image = join(out, name);
        log.step(`card ${i + 1}/${nodes.length}: ${node.hostname} (${node.role}${node.address ? `, ${node.address}` : ''})`);
        await copySparse(base, image, signal);
        const plan = own[i];
        if (!plan) throw new InternalError(`no plan for card ${node.hostname}`);
        await applyPlan(plan, image, backend, signal);
        // Hashing and mapping this card overlaps with writing the next one.
        finishing.push(finishNode(image, name, signal).then(({ sha256, size }) => {
          built[i] = { hostname: node.hostname, role: node.role, ...(node.address ? { address: node.address } : {}), image: name, sha256, size };
        }));
        if (finishing.length > 1) await finishing[finishing.length - 2];
      }
    } finally {
      await Promise.allSettled(finishing);
    }
    await Promise.all(finishing);
    const first = nodes.find((node) => node.role === 'server');
    if (!first) throw new InternalError('a cluster without a server passed the recipe checks');
    const kubeconfig = makeAdminKubeconfig(kubernetes, first.hostname, clusterServerUrl(first.recipe));
    await writeFile(join(out, 'cluster.kubeconfig'), kubeconfig, { mode: 0o600 });
    await chmod(join(out, 'cluster.kubeconfig'), 0o600);
    await writeFile(join(out, CLUSTER_MANIFEST), `${JSON.stringify({ server: clusterServerUrl(first.recipe), nodes: built }, null, 2)}\n`);
    return { dir: output, nodes: built, kubeconfig: join(output, 'cluster.kubeconfig') };
  });
}

async function finishNode(image: string, name: string, signal: AbortSignal): Promise<{ sha256: string; size: number }> {
  const [sha256] = await Promise.all([sha256File(image, signal), writeBmap(image, `${image}.bmap`)]);
  await writeFile(`${image}.sha256`, `${sha256}  ${name}\n`);
  return { sha256, size: (await stat(image)).size };
}
