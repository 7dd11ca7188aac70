import type { BuildSession } from '../gather/build-session.ts';
import { gatherBuild } from '../gather/gather-build.ts';
import type { Plan } from '../plan/types.ts';
import { digestCardPlan } from './card-digest.ts';
import { planHostKeys, planNodeIdentity } from './node-identity.ts';
import { planNode } from './plan-card.ts';
import { decideCard, readClusterState, resolveClusterFolder } from './write-cluster.ts';

export interface PlannedCard {
  hostname: string;
  role: 'server' | 'agent';
  // What `pikube build` with the same flags would do with this card: write it (new, changed, or its host keys are
  // still to be made), keep it byte for byte, keep it although it changed (--only), or leave it out (--only).
  build: 'write' | 'keep' | 'keep-stale' | 'skip';
  plan: Plan;
}

export interface ClusterPlanOptions {
  config: string;
  output?: string;
  only?: string[];
  secrets?: string;
}

// The cards of a `cluster:` recipe as `pikube build -o DIR` would make them, with the cluster's kept secrets (CAs,
// tokens, each node's host keys) read but never written, and each card's plan digest compared with DIR's
// cluster.json: says which cards a build would write and which it would keep. A card whose host keys do not exist
// yet is planned without them (only `build` makes keys) and counts as one to write.
export async function planCluster(session: BuildSession, image: string, work: string, options: ClusterPlanOptions): Promise<PlannedCard[]> {
  const output = resolveClusterFolder(options);
  const state = await readClusterState(session, output, { ...(options.only ? { only: options.only } : {}), ...(options.secrets ? { secrets: options.secrets } : {}) });
  const { kept } = state;
  const gathered = await gatherBuild(session, image, work, kept ? { seed: kept.seed, ...(kept.k3s ? { k3s: kept.k3s } : {}), ...(kept.static ? { static: kept.static } : {}) } : undefined);
  const types = gathered.facts.rsaHostKey ? ['ed25519', 'ecdsa', 'rsa'] : ['ed25519', 'ecdsa'];
  return Promise.all(state.nodes.map(async (node) => {
    const keys = kept?.nodes.get(node.hostname);
    const complete = keys !== undefined && types.every((type) => keys.has(`ssh_host_${type}_key`) && keys.has(`ssh_host_${type}_key.pub`));
    const identity = planNodeIdentity(node.hostname, complete ? planHostKeys(node.hostname, keys) : []);
    const plan = planNode(session, gathered, node.recipe, { role: node.kube, extraEntries: identity, ownHostKeys: true });
    const decision = complete ? await decideCard(output, state.previous, node.hostname, digestCardPlan(plan), options.only) : undefined;
    const selected = !options.only || options.only.includes(node.hostname);
    const build = decision ? ({ written: 'write', unchanged: 'keep', stale: 'keep-stale', skipped: 'skip' } as const)[decision.status] : selected ? 'write' : 'skip';
    return { hostname: node.hostname, role: node.role, build, plan };
  }));
}
