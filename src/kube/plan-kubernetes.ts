import type { LocalFile, OverlayItem } from '../acquire/local-inputs.ts';
import type { OverlayScripts } from '../acquire/overlay-scripts.ts';
import type { Recipe } from '../config/schema.ts';
import { InternalError } from '../errors.ts';
import type { BuildInput, ImageFacts, PlanEntry } from '../plan/types.ts';
import type { AppsBundle } from './apps/plan-apps.ts';
import { listAppInputs, planApps } from './apps/plan-apps.ts';
import { planK3s, type K3sNodeRole } from './k3s/plan-k3s.ts';
import { makeKubeconfig } from './kubeconfig.ts';
import type { K3sPki } from './pki/k3s-pki.ts';
import { planStaticNode, type StaticNodeRole, type StaticShared } from './static/plan-static.ts';

// A card's place in a `cluster:`, in its profile's terms; a single-card build has none and is a lone server.
export type KubeNodeRole = ({ distribution: 'k3s' } & K3sNodeRole) | ({ distribution: 'static' } & StaticNodeRole);

export interface KubernetesPlan {
  entries: PlanEntry[];
  inputs: BuildInput[];
}

// What every card of a build shares. k3s: artifacts, pulled images, build contexts and one cluster PKI (its CAs and
// token). static: binaries, images, the server's kubeadm PKI and a cluster's bootstrap token.
export type KubernetesShared = ({ distribution: 'k3s' } & K3sShared) | ({ distribution: 'static' } & StaticShared);

// The k3s release's binary and airgap images for the image's architecture, as downloaded and checked.
export interface K3sArtifacts {
  version: string;
  binary: LocalFile;
  airgap: LocalFile & { name: string };
  inputs: BuildInput[];
}

// One of the recipe's `images:`, pulled for the image's architecture into a tarball.
export interface PulledTarball {
  reference: string;
  file: LocalFile;
}

interface K3sShared {
  artifacts: K3sArtifacts;
  tarballs: PulledTarball[];
  imageInputs: BuildInput[];
  builds: Array<{ name: string; items: OverlayItem[] }>;
  pki: K3sPki;
  builtAt: Date;
  apps: AppsBundle;
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
