import type { LocalFile } from '../../acquire/local-inputs.ts';
import type { StaticRelease } from '../../acquire/static-release.ts';
import type { OverlayScripts } from '../../acquire/overlay-scripts.ts';
import type { Recipe } from '../../config/schema.ts';
import { UserError } from '../../errors.ts';
import { makeEnableLink, makeFileEntry, makeHostContent, makeTextEntry } from '../../plan/entries.ts';
import type { BuildInput, ImageFacts, PlanEntry } from '../../plan/types.ts';
import type { AppsBundle } from '../apps/plan-apps.ts';
import { STATIC_APPS_DIR } from '../apps/plan-apps.ts';
import { planFirstBoot } from '../firstboot.ts';
import { safeName } from '../k3s/plan-k3s.ts';
import { listNodeAddresses } from '../node-address.ts';
import type { KubernetesPlan } from '../plan-kubernetes.ts';
import { planPiFixes } from '../pi-fixes.ts';
import { PKI_DIR, type KubeadmCas, type KubeadmPki } from '../pki/kubeadm-pki.ts';
import { makeAddonManifests } from './addons.ts';
import { BOOTSTRAP_KUBECONFIG, formatBootstrapToken, type BootstrapToken } from './bootstrap-token.ts';
import { makeBootstrapKubeconfig } from './bootstrap-kubeconfig.ts';
import { makeStaticNetwork, type StaticNetwork } from './cluster-settings.ts';
import { makeControlPlaneManifests } from './control-plane-manifests.ts';
import {
  IMAGES_IMPORTED, makeCniConfig, makeContainerdConfig, makeContainerdUnit, makeKubeletConfig, makeKubeletFlags,
  makeKubeletKubeadmDropIn, makeKubeletPikubeDropIn, makeKubeletUnit,
} from './node-config.ts';
import { planPodRoutes, type PodRoute } from './pod-routes.ts';

export const STATIC_IMAGE_DIR = '/var/lib/pikube/images';

// How one card of a static cluster runs: the one server (control plane, etcd, the CA keys) or an agent whose
// kubelet TLS-bootstraps against `server` with the cluster's bootstrap token.
export interface StaticNodeRole {
  role: 'server' | 'agent';
  // https://ADDRESS:6443 of the cluster's server: its static address, else HOSTNAME.local.
  server: string;
  // Every name and address of the server, for its API server certificate (the server's role only).
  tlsSan: string[];
  // The node's place in the recipe: its /24 of the pod network.
  index: number;
  // Every other node, by its place and how to reach it (static address, else HOSTNAME.local): pod routes.
  peers: Array<{ index: number; host: string }>;
}

// The static profile's binaries, downloaded, checked and unpacked on the host.
export interface StaticBinaries {
  kubelet: LocalFile;
  kubectl: LocalFile;
  runc: LocalFile;
  // containerd's bin/ folder: containerd, ctr, containerd-shim-runc-v2, …
  containerd: Array<{ name: string; file: LocalFile }>;
  // The CNI plugins (bridge, host-local, loopback, portmap, …), for /opt/cni/bin.
  cniPlugins: Array<{ name: string; file: LocalFile }>;
  inputs: BuildInput[];
}

// What every card of a static build shares, made once: binaries, image tarballs, the server's PKI, the
// bootstrap token (clusters only) and the networks.
export interface StaticShared {
  release: StaticRelease;
  binaries: StaticBinaries;
  images: Array<{ reference: string; file: LocalFile; input: BuildInput | undefined }>;
  pki: KubeadmPki;
  server: { node: string; advertiseIp?: string; localServer: string; externalServer: string };
  cidrs: { serviceCidr?: string; clusterCidr?: string };
  bootstrap?: BootstrapToken;
  builtAt: Date;
  // What the server's certificates were issued for (names, addresses, service IP): a kept PKI whose request
  // differs gets its leaves issued again from its CAs.
  pkiRequest: string;
  apps: AppsBundle;
}

// A static cluster's kept secrets: its kubeadm PKI (CAs and leaves), what the leaves were issued for, and the
// bootstrap token.
export interface StaticSecrets {
  pki: KubeadmPki;
  pkiRequest: string;
  // Read back from the kept folder, to issue the leaves again; a new cluster's are inside `pki`.
  cas?: KubeadmCas;
  bootstrap: BootstrapToken;
}

// One card of the static profile from the shared inputs: a lone server without `role`, else the cluster's server
// or one of its agents (kubelet, containerd and the node-level images only; the cluster CA but none of its keys).
export function planStaticNode(recipe: Recipe, facts: ImageFacts, shared: StaticShared, scripts: OverlayScripts, role?: StaticNodeRole): KubernetesPlan {
  const { release } = shared;
  const node = recipe.hostname!;
  const isAgent = role?.role === 'agent';
  const network = makeStaticNetwork(shared.cidrs, role?.index ?? 0);
  const nodeImages = new Set<string>([release.images.pause, release.images.proxy, release.images.coredns]);
  const clusterImages = new Set<string>(Object.values(release.images));
  const images = shared.images.filter(({ reference }) => !isAgent || nodeImages.has(reference) || !clusterImages.has(reference));
  const base: StaticNodeInputs = {
    node, release: release.version, binaries: shared.binaries, network, pauseImage: release.images.pause,
    nodeIp: listNodeAddresses(recipe).ips[0], images, scripts, builtAt: shared.builtAt,
    podRoutes: (role?.peers ?? []).map(({ index, host: peer }) => ({ subnet: makeStaticNetwork(shared.cidrs, index).nodePodSubnet, host: peer })),
  };
  const inputs = [...shared.binaries.inputs, ...images.flatMap(({ input }) => (input ? [input] : []))];
  if (isAgent) {
    if (!shared.bootstrap) throw new UserError('an agent needs the cluster\'s bootstrap token', 'build agents from a `cluster:` recipe');
    const bootstrap = makeBootstrapKubeconfig({ server: role.server, caPem: shared.pki.caPem, token: formatBootstrapToken(shared.bootstrap) });
    return { entries: planStaticAgent(facts, { ...base, server: role.server, caPem: shared.pki.caPem, bootstrapKubeconfig: bootstrap }), inputs };
  }
  const { server } = shared;
  const entries = planStatic(facts, {
    ...base, pkiFiles: shared.pki.files,
    manifests: makeControlPlaneManifests(release, { node: server.node, ...(server.advertiseIp ? { advertiseIp: server.advertiseIp } : {}) }, network),
    addons: makeAddonManifests(release, role ? server.externalServer : server.localServer, network, shared.bootstrap),
    hasApps: shared.apps.manifests.length > 0,
  });
  return { entries, inputs };
}

interface StaticNodeInputs {
  node: string;
  release: string;
  binaries: StaticBinaries;
  network: StaticNetwork;
  pauseImage: string;
  nodeIp: string | undefined;
  images: Array<{ reference: string; file: LocalFile }>;
  // pikube's scripts (first boot, boot-test finish, pod routes), read at gather time.
  scripts: OverlayScripts;
  builtAt: Date;
  // A cluster node's routes to the other nodes' pods (none for a lone node).
  podRoutes?: PodRoute[];
}

// The server's inputs: the node runtime plus its PKI, static pods and addons.
export interface StaticInputs extends StaticNodeInputs {
  pkiFiles: Array<{ path: string; content: string; mode: number }>;
  manifests: Array<{ path: string; content: string }>;
  addons: Array<{ path: string; content: string }>;
  // The recipe's `manifests:` are in the apps folder, for first boot to apply after the addons.
  hasApps?: boolean;
}

// An agent's inputs: the node runtime plus the server to join, the CA and the bootstrap kubeconfig.
export interface StaticAgentInputs extends StaticNodeInputs {
  server: string;
  caPem: string;
  bootstrapKubeconfig: string;
}

// What every static node runs: kubelet, containerd, runc, the CNI plugins and their configuration, the images, and
// in a cluster the routes to the other nodes' pods.
function planNodeRuntime(facts: ImageFacts, inputs: StaticNodeInputs): PlanEntry[] {
  const origin = `Kubernetes ${inputs.release} (static)`;
  return [
    makeFileEntry('root', '/usr/local/bin/kubelet', makeHostContent(inputs.binaries.kubelet), 0o755, origin),
    makeFileEntry('root', '/usr/local/bin/kubectl', makeHostContent(inputs.binaries.kubectl), 0o755, origin),
    ...inputs.binaries.containerd.map(({ name, file: binary }) => makeFileEntry('root', `/usr/local/bin/${name}`, makeHostContent(binary), 0o755, 'containerd')),
    makeFileEntry('root', '/usr/local/sbin/runc', makeHostContent(inputs.binaries.runc), 0o755, 'runc'),
    ...inputs.binaries.cniPlugins.map(({ name, file: plugin }) => makeFileEntry('root', `/opt/cni/bin/${name}`, makeHostContent(plugin), 0o755, 'CNI plugins')),
    makeTextEntry('root', '/etc/containerd/config.toml', makeContainerdConfig(inputs.pauseImage), 0o644, 'containerd'),
    makeTextEntry('root', '/etc/systemd/system/containerd.service', makeContainerdUnit(), 0o644, 'containerd'),
    makeEnableLink('containerd.service', 'containerd'),
    makeTextEntry('root', '/etc/systemd/system/kubelet.service', makeKubeletUnit(), 0o644, origin),
    makeTextEntry('root', '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf', makeKubeletKubeadmDropIn(), 0o644, origin),
    makeTextEntry('root', '/etc/systemd/system/kubelet.service.d/20-pikube.conf', makeKubeletPikubeDropIn(), 0o644, origin),
    makeEnableLink('kubelet.service', origin),
    makeTextEntry('root', '/var/lib/kubelet/config.yaml', makeKubeletConfig(inputs.network), 0o644, origin),
    makeTextEntry('root', '/var/lib/kubelet/kubeadm-flags.env', makeKubeletFlags(inputs.node, inputs.nodeIp), 0o644, origin),
    makeTextEntry('root', '/etc/cni/net.d/10-pikube-bridge.conflist', makeCniConfig(inputs.network), 0o644, 'pod network'),
    ...inputs.images.map(({ reference, file: tarball }) => makeFileEntry('root', `${STATIC_IMAGE_DIR}/pikube-${safeName(reference)}.tar`, makeHostContent(tarball), 0o644, `image ${reference}`)),
    ...planPodRoutes(inputs.podRoutes ?? [], inputs.scripts.podRoutes),
    ...planPiFixes(facts, inputs.builtAt),
  ];
}

// The plan entries of the static profile's server (a lone node, or a cluster's control plane), from inputs already
// acquired and generated (pure).
export function planStatic(facts: ImageFacts, inputs: StaticInputs): PlanEntry[] {
  const origin = `Kubernetes ${inputs.release} (static)`;
  return [
    ...planNodeRuntime(facts, inputs),
    { type: 'directory', partition: 'root', path: '/var/lib/etcd', mode: 0o700, uid: 0, gid: 0, origin },
    ...inputs.pkiFiles.map((f) => makeTextEntry('root', f.path, f.content, f.mode, 'cluster PKI made on the host')),
    ...inputs.manifests.map((m) => makeTextEntry('root', m.path, m.content, 0o600, `${origin} control plane`)),
    // 0600: only first boot (root) applies them, and a cluster's bootstrap token Secret is among them.
    ...inputs.addons.map((m) => makeTextEntry('root', m.path, m.content, 0o600, `${origin} addons`)),
    ...planFirstBoot({
      profile: 'static', role: 'server', node: inputs.node, architecture: facts.architecture, bootMount: facts.bootMount, imageDir: STATIC_IMAGE_DIR,
      builds: [], scripts: inputs.scripts, after: 'containerd.service',
      env: { PIKUBE_UNIT: 'kubelet', PIKUBE_KUBECONFIG: '/etc/kubernetes/super-admin.conf', PIKUBE_PAUSE_IMAGE: inputs.pauseImage, PIKUBE_ADDONS: '/etc/kubernetes/addons', PIKUBE_IMAGES_IMPORTED: IMAGES_IMPORTED, ...(inputs.hasApps ? { PIKUBE_APPS: STATIC_APPS_DIR } : {}) },
    }),
  ];
}

// The plan entries of a static cluster's agent: the node runtime, the cluster CA and the bootstrap kubeconfig the
// kubelet trades for its own client certificate (it writes /etc/kubernetes/kubelet.conf itself), nothing else of
// the control plane (pure).
export function planStaticAgent(facts: ImageFacts, inputs: StaticAgentInputs): PlanEntry[] {
  const origin = `Kubernetes ${inputs.release} (static agent)`;
  return [
    ...planNodeRuntime(facts, inputs),
    makeTextEntry('root', `${PKI_DIR}/ca.crt`, inputs.caPem, 0o644, 'cluster CA made on the host'),
    makeTextEntry('root', BOOTSTRAP_KUBECONFIG, inputs.bootstrapKubeconfig, 0o600, `${origin} bootstrap token`),
    ...planFirstBoot({
      profile: 'static', role: 'agent', node: inputs.node, architecture: facts.architecture, bootMount: facts.bootMount, imageDir: STATIC_IMAGE_DIR,
      builds: [], scripts: inputs.scripts, after: 'containerd.service',
      env: {
        PIKUBE_UNIT: 'kubelet', PIKUBE_KUBECONFIG: '/etc/kubernetes/kubelet.conf', PIKUBE_BOOTSTRAP_KUBECONFIG: BOOTSTRAP_KUBECONFIG, PIKUBE_SERVER: inputs.server,
        PIKUBE_PAUSE_IMAGE: inputs.pauseImage, PIKUBE_IMAGES_IMPORTED: IMAGES_IMPORTED,
      },
    }),
  ];
}
