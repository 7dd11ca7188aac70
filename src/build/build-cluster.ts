import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InternalError } from '../errors.ts';
import { applyPlan } from '../image/apply-plan.ts';
import type { ExtBackend } from '../image/backend.ts';
import { makeAdminKubeconfig } from '../kube/plan-kubernetes.ts';
import { log } from '../log.ts';
import { splitSharedPlan } from '../plan/split-shared.ts';
import { makeServerUrl } from '../kube/node-address.ts';
import { listClusterNodes } from './cluster-nodes.ts';
import { checkClusterSpace } from './check-cluster-space.ts';
import { CLUSTER_MANIFEST, formatCardLabel, withClusterOutput } from './cluster-output.ts';
import { deriveCards } from './derive-cards.ts';
import { unpackBase, type BuildSession } from './load-build.ts';
import { makeHostKeys, planNodeIdentity } from './node-identity.ts';
import { gatherBuild, planNode } from './plan-build.ts';

export interface BuiltNode {
  hostname: string;
  role: 'server' | 'agent';
  address?: string;
  // File names inside the output folder.
  image: string;
  bmap: string;
  size: number;
  // Bytes the block map lists: what flashing this card writes.
  mappedBytes: number;
}

export interface BuiltCluster {
  dir: string;
  nodes: BuiltNode[];
  kubeconfig: string;
}

// `pikube build` for a `cluster:` recipe: the base is unpacked, the inputs gathered, the PKI made and every entry
// the cards share written once; each card is then a sparse copy of that image (the last card takes the image
// itself) plus its own few entries (hostname, role and config, network, SSH host keys), checked and
// block-mapped. Cards get a .bmap, whose per-range SHA-256 covers every byte that holds data, and no whole-image
// .sha256: hashing each card's full size, holes included, would cost more than deriving the card.
export async function buildCluster(session: BuildSession, output: string, backend: ExtBackend, signal: AbortSignal): Promise<BuiltCluster> {
  const { recipe } = session.loaded;
  const nodes = listClusterNodes(recipe);
  const servers = nodes.filter((node) => node.role === 'server').length;
  if (servers > 1 && servers % 2 === 0) log.warn(`${servers} servers: etcd needs a majority, so an even number tolerates no more failures than one fewer`);
  return withClusterOutput(output, async ({ out, scratch }) => {
    const keyDir = (hostname: string) => join(scratch, 'identity', hostname);
    // ed25519 and ECDSA host keys for every card; RSA (most of a second of CPU per card) only where the base ships an
    // RSA key the cards would otherwise share: stock bases make theirs at first boot, and sshd skips a missing one.
    const keys = Promise.all(nodes.map((node) => makeHostKeys(node.hostname, keyDir(node.hostname), ['ed25519', 'ecdsa'], signal)));
    keys.catch(() => undefined);
    const base = join(scratch, 'base.img');
    log.step(`writing the base image (${session.baseName}) once for ${nodes.length} cards`);
    await unpackBase(session, base, signal);
    const gathered = await gatherBuild(session, base, scratch);
    const kubernetes = gathered.kubernetes;
    if (!kubernetes) throw new InternalError('a cluster recipe without kubernetes passed the recipe checks');
    const rsaKeys = gathered.facts.rsaHostKey
      ? await Promise.all(nodes.map((node) => makeHostKeys(node.hostname, keyDir(node.hostname), ['rsa'], signal)))
      : [];
    const ownKeys = await keys;
    const plans = nodes.map((node, i) => planNode(session, gathered, node.recipe, {
      role: node.kube, extraEntries: planNodeIdentity(node.hostname, [...(ownKeys[i] ?? []), ...(rsaKeys[i] ?? [])]), ownHostKeys: true,
    }));
    const { shared, nodes: own } = splitSharedPlan(plans);
    log.step(`writing what every card shares (${shared.entries.length} entries)`);
    await applyPlan(shared, base, backend, signal);
    await checkClusterSpace(base, nodes.length);
    const cards = await deriveCards(base, nodes.map((node, i) => {
      const plan = own[i];
      if (!plan) throw new InternalError(`no plan for card ${node.hostname}`);
      return { image: join(out, `${node.hostname}.img`), plan, label: formatCardLabel(node) };
    }), backend, signal);
    const built = nodes.map((node, i): BuiltNode => ({
      hostname: node.hostname, role: node.role, ...(node.address ? { address: node.address } : {}),
      image: `${node.hostname}.img`, bmap: `${node.hostname}.img.bmap`, size: cards[i]?.size ?? 0, mappedBytes: cards[i]?.mappedBytes ?? 0,
    }));
    const first = nodes.find((node) => node.role === 'server');
    if (!first) throw new InternalError('a cluster without a server passed the recipe checks');
    const kubeconfig = makeAdminKubeconfig(kubernetes, first.hostname, makeServerUrl(first.recipe));
    await writeFile(join(out, 'cluster.kubeconfig'), kubeconfig, { mode: 0o600 });
    await chmod(join(out, 'cluster.kubeconfig'), 0o600);
    await writeFile(join(out, CLUSTER_MANIFEST), `${JSON.stringify({ server: makeServerUrl(first.recipe), nodes: built }, null, 2)}\n`);
    return { dir: output, nodes: built, kubeconfig: join(output, 'cluster.kubeconfig') };
  });
}
