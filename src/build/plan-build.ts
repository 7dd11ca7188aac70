import { createHash } from 'node:crypto';
import type { AcquiredBase } from '../acquire/acquire-base.ts';
import type { LocalFile, OverlayItem } from '../acquire/local-inputs.ts';
import { readOverlayScripts, type OverlayScripts } from '../acquire/overlay-scripts.ts';
import type { Recipe } from '../config/schema.ts';
import { readImageFacts } from '../image/read-facts.ts';
import { log } from '../log.ts';
import { buildPlan } from '../plan/build-plan.ts';
import type { ImageFacts, Plan, PlanEntry } from '../plan/types.ts';
import { makeServerUrl } from '../kube/node-address.ts';
import { gatherKubernetes, makeAdminKubeconfig, planKubernetesNode, type KubeNodeRole, type KubernetesShared } from '../kube/plan-kubernetes.ts';
import type { K3sPki } from '../kube/pki/k3s-pki.ts';
import type { StaticSecrets } from '../kube/static/plan-static.ts';
import { deriveSecretToken } from './cluster-secrets.ts';
import { hashPassword } from '../tools/openssl.ts';
import { PIKUBE_VERSION } from '../version.ts';
import { listClusterNodes } from './cluster-nodes.ts';
import { describeBase, type BuildSession } from './load-build.ts';

export interface PlannedBuild {
  plan: Plan;
  // The admin kubeconfig for the user's computer, when a Kubernetes profile is chosen.
  kubeconfig?: string;
}

// What every card of a build shares, read or computed once: facts of the unpacked base, local inputs, the
// password hash and the Kubernetes profile's artifacts and PKI.
export interface GatheredBuild {
  facts: ImageFacts;
  overlay: OverlayItem[];
  sources: Map<number, LocalFile>;
  recipeSha256: string;
  passwordHash?: string;
  kubernetes?: KubernetesShared;
  // pikube's own shell scripts from its overlay/ folder, read and hashed for every card's plan.
  scripts: OverlayScripts;
  base: AcquiredBase;
  // A cluster's kept seed: instance ids and the password salt come from it, so rebuilt cards stay the same.
  seed?: string;
}

// What a cluster build brings from its kept secrets folder.
export interface KeptSecrets {
  seed: string;
  k3s?: K3sPki;
  static?: StaticSecrets;
}

// How one card differs from the recipe it came from (a cluster's node).
export interface NodeOptions {
  role?: KubeNodeRole;
  // Entries only this card gets (its machine id reset, its SSH host keys).
  extraEntries?: PlanEntry[];
  // extraEntries hold the card's SSH host keys: cloud-init and raspberrypi-sys-mods must keep them.
  ownHostKeys?: boolean;
}

// acquire -> plan: reads the facts of the unpacked base at `image` and gathers every input the recipe names
// (local files, Kubernetes artifacts, images, a fresh PKI) into `workDir`.
export async function gatherBuild(session: BuildSession, image: string, workDir: string, kept?: KeptSecrets): Promise<GatheredBuild> {
  const { recipe, directory, text } = session.loaded;
  const facts = { ...(await readImageFacts(image, describeBase(session))), path: session.archivePath };
  const { overlay, sources } = await session.inputs;
  const scripts = await readOverlayScripts();
  const recipeSha256 = createHash('sha256').update(text).digest('hex');
  const { clock } = session;
  const passwordHash = recipe.user?.passwordHash ?? (recipe.user?.password
    ? await hashPassword(recipe.user.password, kept ? deriveSecretToken(kept, 'salt', 16) : clock.token(`salt:${recipeSha256}`, 16))
    : undefined);
  if (facts.cloudInit && (recipe.hostname || recipe.cluster) && !recipe.user) {
    log.warn('the recipe sets hostname but no user: the base\'s cloud-init user-data is replaced, so define `user:` to keep a login user');
  }
  let kubernetes: KubernetesShared | undefined;
  if (recipe.kubernetes) {
    const server = recipe.cluster ? listClusterNodes(recipe).find((node) => node.role === 'server') : undefined;
    kubernetes = await gatherKubernetes(recipe, facts, {
      acquire: session.acquire, workDir, builtAt: new Date(clock.epochSeconds * 1000), recipeDir: directory,
      ...(server ? { clusterServer: { recipe: server.recipe, role: server.kube } } : {}),
      ...(kept ? { secrets: { ...(kept.k3s ? { k3s: kept.k3s } : {}), ...(kept.static ? { static: kept.static } : {}) } } : {}),
    });
  }
  return { facts, overlay, sources, recipeSha256, scripts, ...(passwordHash ? { passwordHash } : {}), ...(kubernetes ? { kubernetes } : {}), base: await session.base, ...(kept ? { seed: kept.seed } : {}) };
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
