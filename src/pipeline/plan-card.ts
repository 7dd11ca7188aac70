import type { Recipe } from '../config/schema.ts';
import { gatherBuild, type GatheredBuild } from '../gather/gather-build.ts';
import type { BuildSession } from '../gather/build-session.ts';
import { deriveSecretToken } from '../gather/cluster-secrets.ts';
import { makeServerUrl } from '../kube/node-address.ts';
import { makeAdminKubeconfig, planKubernetesNode, type KubeNodeRole } from '../kube/plan-kubernetes.ts';
import { buildPlan } from '../plan/build-plan.ts';
import type { Plan, PlanEntry } from '../plan/types.ts';
import { PIKUBE_VERSION } from '../version.ts';

export interface PlannedBuild {
  plan: Plan;
  // The admin kubeconfig for the user's computer, when a Kubernetes profile is chosen.
  kubeconfig?: string;
}

// How one card differs from the recipe it came from (a cluster's node).
export interface NodeOptions {
  role?: KubeNodeRole;
  // Entries only this card gets (its machine id reset, its SSH host keys).
  extraEntries?: PlanEntry[];
  // extraEntries hold the card's SSH host keys: cloud-init and raspberrypi-sys-mods must keep them.
  ownHostKeys?: boolean;
}

// The pure plan of one card: `recipe` is the session's recipe, or a cluster node's view of it.
export function planNode(session: BuildSession, gathered: GatheredBuild, recipe: Recipe, options: NodeOptions = {}): Plan {
  const { facts, recipeSha256, base, kubernetes } = gathered;
  const { clock } = session;
  const profile = kubernetes ? planKubernetesNode(recipe, facts, kubernetes, gathered.scripts, options.role) : { entries: [], inputs: [] };
  const instanceSeed = options.role ? `instance:${recipeSha256}:${recipe.hostname ?? ''}` : `instance:${recipeSha256}`;
  const instanceToken = gathered.seed ? deriveSecretToken({ seed: gathered.seed }, `instance:${recipe.hostname ?? ''}`, 12) : clock.token(instanceSeed, 12);
  return buildPlan(recipe, facts, {
    pikubeVersion: PIKUBE_VERSION,
    recipeSha256,
    baseInput: { role: 'base', name: session.baseName, sha256: base.sha256, ...(base.url ? { url: base.url } : {}) },
    builtAt: new Date(clock.epochSeconds * 1000).toISOString(),
    overlay: gathered.overlay,
    sources: gathered.sources,
    ...(gathered.passwordHash ? { passwordHash: gathered.passwordHash } : {}),
    instanceId: `pikube-${instanceToken}`,
    ...(options.ownHostKeys ? { ownHostKeys: true } : {}),
    keepHostKeysScript: gathered.scripts.keepHostKeys,
    extraEntries: [...profile.entries, ...(options.extraEntries ?? [])],
    extraInputs: profile.inputs,
  });
}

// acquire -> plan for a single card: gather, then plan, plus the admin kubeconfig with a Kubernetes profile.
export async function gatherAndPlanBuild(session: BuildSession, image: string, workDir: string): Promise<PlannedBuild> {
  const gathered = await gatherBuild(session, image, workDir);
  const { recipe } = session.loaded;
  const plan = planNode(session, gathered, recipe);
  let kubeconfig: string | undefined;
  if (gathered.kubernetes && recipe.hostname) {
    kubeconfig = makeAdminKubeconfig(gathered.kubernetes, recipe.hostname, makeServerUrl(recipe));
  }
  return { plan, ...(kubeconfig === undefined ? {} : { kubeconfig }) };
}
