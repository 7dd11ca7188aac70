import { chmod, link, rm, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve, sep } from 'node:path';
import { InternalError, UserError } from '../errors.ts';
import { applyPlan } from '../image/apply-plan.ts';
import type { ExtBackend } from '../image/backend.ts';
import { makeAdminKubeconfig } from '../kube/plan-kubernetes.ts';
import { log } from '../log.ts';
import { splitSharedPlan } from '../plan/split-shared.ts';
import { makeServerUrl } from '../kube/node-address.ts';
import { cloneSparse } from '../tools/cp.ts';
import { suggest } from '../config/did-you-mean.ts';
import type { Recipe } from '../config/schema.ts';
import { digestCardPlan } from './card-digest.ts';
import { listClusterNodes } from '../kube/cluster-nodes.ts';
import { checkClusterSpace } from './check-cluster-space.ts';
import { withClusterOutput } from './cluster-output.ts';
import { formatCardLabel, readClusterManifest, writeClusterManifest, type ClusterCard, type ClusterManifest } from '../flash/cluster-manifest.ts';
import { makeClusterSecrets, readClusterSecrets, type ClusterSecrets } from '../gather/cluster-secrets.ts';
import { writeClusterSecrets } from './write-cluster-secrets.ts';
import { deriveCards } from './derive-cards.ts';
import type { BuildSession } from '../gather/build-session.ts';
import { gatherBuild } from '../gather/gather-build.ts';
import { unpackBase } from './load-build.ts';
import { ensureHostKeys, planHostKeys, planNodeIdentity } from './node-identity.ts';
import { planNode } from './plan-card.ts';

// A card of the cluster as this build left it (written anew, kept byte for byte because its plan did not change,
// or kept although its plan changed because `--only` left it out), as cluster.json records it.
export type BuiltNode = ClusterCard;

export interface BuiltCluster {
  dir: string;
  name: string;
  nodes: BuiltNode[];
  // Cards of the recipe that are not in the folder: --only left them out and no earlier build made them.
  skipped: string[];
  kubeconfig: string;
  secrets: string;
  secretsCreated: boolean;
}

export interface WriteClusterOptions {
  // Write only these cards (hostnames); the others are kept as the folder has them.
  only?: string[];
  // The secrets folder (--secrets), overriding cluster.secrets and DIR/secrets.
  secrets?: string;
}

// The cluster folder a build writes and a plan compares with: -o, else the recipe's file name in the working directory.
export function resolveClusterFolder(options: { config: string; output?: string }): string {
  return resolve(options.output ?? basename(options.config, extname(options.config)));
}

// The name a cluster goes by in its secrets folder and kubeconfig context: cluster.name, else the recipe's file name.
export function findClusterName(recipe: Recipe, recipePath: string): string {
  return recipe.cluster?.name ?? basename(recipePath, extname(recipePath));
}

// What a cluster build starts from, and what `pikube plan` compares with: the recipe's nodes, the secrets folder and the
// secrets it keeps, and the record of the cards DIR holds; refused when they cannot belong together.
export interface ClusterState {
  nodes: ReturnType<typeof listClusterNodes>;
  name: string;
  distribution: 'k3s' | 'static';
  secretsDir: string;
  secretsInOutput: boolean;
  previous: ClusterManifest | undefined;
  kept: ClusterSecrets | undefined;
}

// Reads (never writes) the cluster's kept secrets and DIR's cluster.json, with the checks a build makes before it starts.
export async function readClusterState(session: BuildSession, output: string, options: WriteClusterOptions = {}): Promise<ClusterState> {
  const { recipe, directory, path: recipePath } = session.loaded;
  const nodes = listClusterNodes(recipe);
  const name = findClusterName(recipe, recipePath);
  const distribution = recipe.kubernetes?.distribution ?? 'k3s';
  const secretsDir = options.secrets ? resolve(options.secrets) : recipe.cluster?.secrets ? resolve(directory, recipe.cluster.secrets) : join(output, 'secrets');
  const secretsInOutput = secretsDir === join(output, 'secrets');
  if (!secretsInOutput && (secretsDir === output || secretsDir.startsWith(`${output}${sep}`))) {
    throw new UserError(`the secrets folder ${secretsDir} is inside the output folder ${output}, which every build replaces`, `keep it at ${join(output, 'secrets')} (the default) or outside ${output}`);
  }
  for (const only of options.only ?? []) {
    if (!nodes.some((node) => node.hostname === only)) {
      const guess = suggest(only, nodes.map((node) => node.hostname));
      throw new UserError(`--only ${only}: the recipe has no node ${only}${guess ? ` (did you mean ${guess}?)` : ''}`, `name a hostname under cluster.nodes: ${nodes.map((node) => node.hostname).join(', ')}`);
    }
  }
  const servers = nodes.filter((node) => node.role === 'server').length;
  if (servers > 1 && servers % 2 === 0) log.warn(`${servers} servers: etcd needs a majority, so an even number tolerates no more failures than one fewer`);
  const previous = await readPreviousCluster(output);
  const kept = await readClusterSecrets(secretsDir, { name, distribution });
  if (!kept && previous?.cluster?.id) {
    throw new UserError(`${output} holds the cards of cluster "${previous.cluster.name ?? name}", and its secrets folder ${secretsDir} is missing`,
      'restore the secrets folder (or point --secrets at it): new secrets would make cards the running cluster rejects. To start a new cluster, choose a new -o DIR');
  }
  if (kept && previous?.cluster?.id && previous.cluster.id !== kept.id) {
    throw new UserError(`${output} holds the cards of another cluster than the secrets folder ${secretsDir} (cluster id ${previous.cluster.id}, not ${kept.id})`,
      'point --secrets at the secrets folder of the cluster in that folder, or choose a new -o DIR for this one');
  }
  return { nodes, name, distribution, secretsDir, secretsInOutput, previous, kept };
}

// Writes the cards of a `cluster:` recipe into `output`. The cluster's secrets (CAs, tokens, each node's SSH host
// keys) come from its kept secrets folder, or are made once and written there; every card is planned, and only a card whose plan
// digest differs from the one cluster.json recorded (or that is missing) is written: the base is unpacked, what
// those cards share written once, and each card is a sparse copy of that image (the last takes the image itself)
// plus its own entries, checked and block-mapped. An unchanged card is linked from the earlier folder, byte for
// byte. Cards get a .bmap (per-range SHA-256 of every byte that holds data) and no whole-image .sha256.
export async function writeCluster(session: BuildSession, output: string, backend: ExtBackend, signal: AbortSignal, options: WriteClusterOptions = {}): Promise<BuiltCluster> {
  const { nodes, name, distribution, secretsDir, secretsInOutput, previous, kept } = await readClusterState(session, output, options);
  const secrets: ClusterSecrets = kept ?? makeClusterSecrets(name, distribution, new Date(session.clock.epochSeconds * 1000));
  const built = await withClusterOutput(output, async ({ out, scratch }) => {
    const keyDir = (hostname: string) => join(scratch, 'identity', hostname);
    // ed25519 and ECDSA host keys for every card that has none yet; RSA (most of a second of CPU per card) only where
    // the base ships an RSA key the cards would otherwise share: stock bases make theirs at first boot.
    const keys = Promise.all(nodes.map((node) => ensureHostKeys(node.hostname, secrets.nodes.get(node.hostname), keyDir(node.hostname), ['ed25519', 'ecdsa'], signal)));
    keys.catch(() => undefined);
    const base = join(scratch, 'base.img');
    log.step(`writing the base image (${session.baseName}) once for the cluster's cards`);
    await unpackBase(session, base, signal);
    const gathered = await gatherBuild(session, base, scratch, { seed: secrets.seed, ...(secrets.k3s ? { k3s: secrets.k3s } : {}), ...(secrets.static ? { static: secrets.static } : {}) });
    const kubernetes = gathered.kubernetes;
    if (!kubernetes) throw new InternalError('a cluster recipe without kubernetes passed the recipe checks');
    if (kubernetes.distribution === 'k3s') secrets.k3s = kubernetes.pki;
    else {
      if (!kubernetes.bootstrap) throw new InternalError('a static cluster was gathered without a bootstrap token');
      secrets.static = { pki: kubernetes.pki, pkiRequest: kubernetes.pkiRequest, bootstrap: kubernetes.bootstrap, ...(secrets.static?.cas ? { cas: secrets.static.cas } : {}) };
    }
    const types = gathered.facts.rsaHostKey ? (['ed25519', 'ecdsa', 'rsa'] as const) : (['ed25519', 'ecdsa'] as const);
    const ownKeys = await Promise.all((await keys).map((got, i) => ensureHostKeys(nodes[i]?.hostname ?? '', got, keyDir(nodes[i]?.hostname ?? ''), types, signal)));
    for (const [i, node] of nodes.entries()) secrets.nodes.set(node.hostname, ownKeys[i] ?? new Map());
    const plans = nodes.map((node, i) => planNode(session, gathered, node.recipe, {
      role: node.kube, extraEntries: planNodeIdentity(node.hostname, planHostKeys(node.hostname, ownKeys[i] ?? new Map())), ownHostKeys: true,
    }));
    const digests = plans.map(digestCardPlan);
    const decisions = await Promise.all(nodes.map(async (node, i) => decideCard(output, previous, node.hostname, digests[i] ?? '', options.only)));
    const writing = nodes.flatMap((node, i) => (decisions[i]?.status === 'written' ? [i] : []));
    const cards = new Map<number, { size: number; mappedBytes: number }>();
    if (writing.length > 0) {
      const { shared, nodes: own } = splitSharedPlan(writing.map((i) => plans[i]!));
      log.step(`writing what the ${writing.length} card${writing.length === 1 ? '' : 's'} to write share (${shared.entries.length} entries)`);
      await applyPlan(shared, base, backend, signal);
      await checkClusterSpace(base, writing.length);
      const derived = await deriveCards(base, writing.map((i, j) => {
        const plan = own[j];
        const node = nodes[i];
        if (!plan || !node) throw new InternalError(`no plan for card ${i}`);
        return { image: join(out, `${node.hostname}.img`), plan, label: formatCardLabel(node) };
      }), backend, signal);
      for (const [j, i] of writing.entries()) cards.set(i, derived[j] ?? { size: 0, mappedBytes: 0 });
    } else {
      log.step('every card is unchanged: nothing to write');
    }
    const result: BuiltNode[] = [];
    const skipped: string[] = [];
    for (const [i, node] of nodes.entries()) {
      const decision = decisions[i];
      if (!decision) continue;
      const image = `${node.hostname}.img`;
      const entry = { hostname: node.hostname, role: node.role, ...(node.address ? { address: node.address } : {}), image, bmap: `${image}.bmap`, digest: digests[i] ?? '' };
      if (decision.status === 'skipped') {
        skipped.push(node.hostname);
        continue;
      }
      if (decision.status === 'written') {
        const card = cards.get(i);
        result.push({ ...entry, size: card?.size ?? 0, mappedBytes: card?.mappedBytes ?? 0, status: 'written' });
        continue;
      }
      await keepFile(join(output, image), join(out, image), signal);
      await keepFile(join(output, `${image}.bmap`), join(out, `${image}.bmap`), signal);
      result.push({ ...entry, digest: decision.previous.digest ?? '', size: decision.previous.size ?? 0, mappedBytes: decision.previous.mappedBytes ?? 0, status: decision.status });
    }
    const first = nodes.find((node) => node.role === 'server');
    if (!first) throw new InternalError('a cluster without a server passed the recipe checks');
    const kubeconfig = makeAdminKubeconfig(kubernetes, name, makeServerUrl(first.recipe));
    await writeFile(join(out, 'cluster.kubeconfig'), kubeconfig, { mode: 0o600 });
    await chmod(join(out, 'cluster.kubeconfig'), 0o600);
    await writeClusterSecrets(secretsInOutput ? join(out, 'secrets') : secretsDir, secrets);
    await writeClusterManifest(out, { cluster: { name, id: secrets.id }, server: makeServerUrl(first.recipe), nodes: result });
    return { nodes: result, skipped };
  });
  return { dir: output, name, ...built, kubeconfig: join(output, 'cluster.kubeconfig'), secrets: secretsDir, secretsCreated: !kept };
}

export type CardDecision = { status: 'written' } | { status: 'skipped' } | { status: 'unchanged'; previous: ClusterCard } | { status: 'stale'; previous: ClusterCard };

// A card is kept when the earlier build recorded the same plan digest and its image and block map are still there
// at the size recorded; --only writes only the cards it names (if they changed) and keeps the others as they are.
export async function decideCard(output: string, previous: ClusterManifest | undefined, hostname: string, digest: string, only: string[] | undefined): Promise<CardDecision> {
  const record = previous?.nodes?.find((node) => node.hostname === hostname);
  const image = join(output, `${hostname}.img`);
  const present = record && (await stat(image).catch(() => undefined))?.size === record.size && (await stat(`${image}.bmap`).catch(() => undefined))?.isFile();
  const selected = !only || only.includes(hostname);
  if (present && record.digest === digest) return { status: 'unchanged', previous: record };
  if (selected) return { status: 'written' };
  if (present) return { status: 'stale', previous: record };
  return { status: 'skipped' };
}

// A kept card goes into the new folder as a hard link (same bytes, no copy); a sparse copy where links fail.
async function keepFile(from: string, to: string, signal: AbortSignal): Promise<void> {
  await link(from, to).catch(async () => {
    await rm(to, { force: true });
    await cloneSparse(from, to, signal);
  });
}

// The earlier build's record, when DIR has one pikube can read (an older or damaged one: every card is written).
async function readPreviousCluster(output: string): Promise<ClusterManifest | undefined> {
  return readClusterManifest(output).catch(() => undefined);
}
