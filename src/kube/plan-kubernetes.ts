import { resolve } from 'node:path';
import type { AcquireOptions } from '../acquire/acquire-options.ts';
import { readOverlay, type OverlayItem } from '../acquire/local-inputs.ts';
import type { OverlayScripts } from '../acquire/overlay-scripts.ts';
import type { Recipe } from '../config/schema.ts';
import { InternalError, UserError } from '../errors.ts';
import type { BuildInput, ImageFacts, PlanEntry } from '../plan/types.ts';
import { acquireK3s, type K3sArtifacts } from './k3s/acquire-k3s.ts';
import { planK3s, type K3sNodeRole } from './k3s/plan-k3s.ts';
import { makeKubeconfig } from './kubeconfig.ts';
import { generateK3sPki, type K3sPki } from './pki/k3s-pki.ts';
import { pullImageTarballs, type PulledTarball } from './pull-images.ts';
import { gatherStatic, planStaticNode, type StaticNodeRole, type StaticSecrets, type StaticShared } from './static/plan-static.ts';
import { gatherApps, type AppsBundle } from './apps/gather-apps.ts';
import { listAppInputs, planApps } from './apps/plan-apps.ts';

export interface KubernetesContext {
  acquire: AcquireOptions & { registryMirror?: string };
  workDir: string;
  builtAt: Date;
  recipeDir: string;
  // A cluster's first server, as its card sees the recipe, with its role: the static profile makes its PKI.
  clusterServer?: { recipe: Recipe; role: KubeNodeRole };
  // A cluster's kept secrets: reused instead of made anew, so earlier cards keep working with the new ones.
  secrets?: { k3s?: K3sPki; static?: StaticSecrets };
}

// A card's place in a `cluster:`, in its profile's terms; a single-card build has none and is a lone server.
export type KubeNodeRole = ({ distribution: 'k3s' } & K3sNodeRole) | ({ distribution: 'static' } & StaticNodeRole);

export interface KubernetesPlan {
  entries: PlanEntry[];
  inputs: BuildInput[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

// What every card of a build shares. k3s: artifacts, pulled images, build contexts and one cluster PKI (its CAs and
// token). static: binaries, images, the server's kubeadm PKI and a cluster's bootstrap token.
export type KubernetesShared = ({ distribution: 'k3s' } & K3sShared) | ({ distribution: 'static' } & StaticShared);

interface K3sShared {
  artifacts: K3sArtifacts;
  tarballs: PulledTarball[];
  imageInputs: BuildInput[];
  builds: Array<{ name: string; items: OverlayItem[] }>;
  pki: K3sPki;
  builtAt: Date;
  apps: AppsBundle;
}

// Gathers what the chosen profile needs (artifacts, images, build contexts, a fresh cluster PKI), once per build.
export async function gatherKubernetes(recipe: Recipe, facts: ImageFacts, context: KubernetesContext): Promise<KubernetesShared> {
  const kubernetes = recipe.kubernetes;
  if (!kubernetes) throw new InternalError('gatherKubernetes called for a recipe without kubernetes:');
  if (kubernetes.distribution === 'static') {
    const server = context.clusterServer;
    if (recipe.cluster && server?.role.distribution !== 'static') throw new InternalError('a static cluster was gathered without its server');
    const shared = await gatherStatic(recipe, facts, context, server?.role.distribution === 'static' ? { recipe: server.recipe, role: server.role } : undefined);
    return { distribution: 'static', ...shared, apps: await gatherApps(recipe, context.recipeDir, context.workDir, context.acquire) };
  }
  const builds = [];
  for (const [i, build] of kubernetes.build.entries()) {
    const items = await readOverlay(resolve(context.recipeDir, build.context));
    if (!items.some((item) => item.kind === 'file' && item.relative === 'Dockerfile')) {
      throw new UserError(`kubernetes.build[${i}].context ${build.context} has no Dockerfile`, 'point context at the folder that holds the Dockerfile');
    }
    builds.push({ name: build.name, items });
  }
  if (builds.length > 0 && !facts.docker) {
    throw new UserError('kubernetes.build needs docker on the Pi, and this base has none', 'build the image on your computer and push it to a registry, then list it under `images:`; or use a base with Docker (Hypriot)');
  }
  const artifacts = await acquireK3s(kubernetes.version, facts.architecture, context.acquire);
  const { tarballs, inputs: imageInputs } = await pullImageTarballs(recipe.images, facts.architecture, context.workDir, context.acquire);
  const pki = context.secrets?.k3s ?? await generateK3sPki({ notBefore: new Date(context.builtAt.getTime() - DAY_MS) });
  const apps = await gatherApps(recipe, context.recipeDir, context.workDir, context.acquire);
  return { distribution: 'k3s', artifacts, tarballs, imageInputs, builds, pki, builtAt: context.builtAt, apps };
}

// One card's profile entries from the shared inputs and pikube's scripts; `node` places it in a cluster (a lone
// server without it).
export function planKubernetesNode(recipe: Recipe, facts: ImageFacts, shared: KubernetesShared, scripts: OverlayScripts, node?: KubeNodeRole): KubernetesPlan {
  if (!recipe.hostname) throw new InternalError('a Kubernetes node without a hostname passed the recipe checks');
  if (node && node.distribution !== shared.distribution) throw new InternalError(`a ${node.distribution} node role for a ${shared.distribution} build`);
  const isServer = node?.role !== 'agent';
  const apps = isServer ? planApps(shared.apps, shared.distribution) : [];
  const appInputs = isServer ? listAppInputs(shared.apps) : [];
  if (shared.distribution === 'static') {
    const plan = planStaticNode(recipe, facts, shared, scripts, node?.distribution === 'static' ? node : undefined);
    return { entries: [...plan.entries, ...apps], inputs: [...plan.inputs, ...appInputs] };
  }
  const { artifacts, tarballs, imageInputs, builds, pki, builtAt } = shared;
  const entries = planK3s(recipe, facts, {
    version: artifacts.version, binary: artifacts.binary, airgap: artifacts.airgap, pki,
    images: tarballs.map(({ reference, file }) => ({ reference, file })), builds, scripts, builtAt, ...(node?.distribution === 'k3s' ? { node } : {}),
  });
  return {
    entries: [...entries, ...apps],
    inputs: [...artifacts.inputs, ...imageInputs, ...builds.flatMap((b) => b.items.flatMap((item) => (item.kind === 'file' ? [{ role: `build ${b.name}`, name: item.relative, sha256: item.sha256 }] : []))), ...appInputs],
  };
}

// The admin kubeconfig for the user's computer, trusting the cluster's server CA before any card has booted.
export function makeAdminKubeconfig(shared: KubernetesShared, clusterName: string, server: string): string {
  if (shared.distribution === 'static') return shared.pki.adminKubeconfig;
  const { pki } = shared;
  return makeKubeconfig({
    clusterName,
    server,
    caPem: pki.serverCaPem,
    userName: `${clusterName}-admin`,
    certPem: pki.admin.certPem,
    keyPem: pki.admin.keyPem,
  });
}
