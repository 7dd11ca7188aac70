import { join } from 'node:path';
import { readLocalFile, type LocalFile } from '../../acquire/local-inputs.ts';
import type { Recipe } from '../../config/schema.ts';
import { UserError } from '../../errors.ts';
import type { FileEntry, ImageFacts, PlanEntry } from '../../plan/types.ts';
import { FIRSTBOOT_SCRIPT, planFirstBoot } from '../firstboot.ts';
import { nodeAddresses, safeName } from '../k3s/plan-k3s.ts';
import type { KubernetesContext, KubernetesPlan } from '../plan-kubernetes.ts';
import { planPiFixes } from '../pi-fixes.ts';
import { generateKubeadmPki } from '../pki/kubeadm-pki.ts';
import { pullImageTarballs } from '../pull-images.ts';
import { acquireStaticBinaries, type StaticBinaries } from './acquire-static.ts';
import { makeAddonManifests } from './addons.ts';
import { CLUSTER } from './cluster-settings.ts';
import { makeControlPlaneManifests } from './control-plane-manifests.ts';
import {
  IMAGES_IMPORTED, makeCniConfig, makeContainerdConfig, makeContainerdUnit, makeKubeletConfig, makeKubeletFlags,
  makeKubeletKubeadmDropIn, makeKubeletPikubeDropIn, makeKubeletUnit,
} from './node-config.ts';
import { resolveStaticRelease } from './static-release.ts';

export const STATIC_IMAGE_DIR = '/var/lib/pikube/images';
const DAY_MS = 24 * 60 * 60 * 1000;

function file(path: string, content: FileEntry['content'], mode: number, origin: string): FileEntry {
  return { type: 'file', partition: 'root', path, mode, uid: 0, gid: 0, content, origin };
}

function host(local: LocalFile): FileEntry['content'] {
  return { kind: 'host', path: local.hostPath, size: local.size, sha256: local.sha256 };
}

function text(body: string): FileEntry['content'] {
  return { kind: 'text', text: body };
}

function enable(unit: string, origin: string): PlanEntry {
  return { type: 'symlink', partition: 'root', path: `/etc/systemd/system/multi-user.target.wants/${unit}`, target: `/etc/systemd/system/${unit}`, uid: 0, gid: 0, origin: `${origin} (enabled)` };
}

// The static profile: upstream kubelet + containerd, control-plane static pods, kubeadm's PKI and kubeconfigs,
// every image preloaded; all prepared here so the Pi only boots. Returns the entries and OUTPUT.kubeconfig.
export async function planStaticProfile(recipe: Recipe, facts: ImageFacts, context: KubernetesContext): Promise<KubernetesPlan> {
  const kubernetes = recipe.kubernetes!;
  const node = recipe.hostname!;
  const release = resolveStaticRelease(kubernetes.version, facts.architecture);
  if (kubernetes.disable.length > 0) {
    throw new UserError('kubernetes.disable names k3s components, and the static profile has none of them', 'remove `disable:` (the static profile installs only kube-proxy and CoreDNS as addons)');
  }
  const binaries = await acquireStaticBinaries(release, join(context.workDir, 'static-binaries'), context.acquire);
  const clusterImages = Object.values(release.images);
  const { tarballs, inputs: imageInputs } = await pullImageTarballs([...clusterImages, ...recipe.images.filter((r) => !clusterImages.includes(r))], facts.architecture, context.workDir, context.acquire);
  const { names, ips } = nodeAddresses(recipe);
  const advertiseIp = ips[0];
  const localServer = `https://${advertiseIp ?? '127.0.0.1'}:${CLUSTER.apiPort}`;
  const pki = await generateKubeadmPki({
    node, apiNames: names, apiIps: ips, serviceIp: CLUSTER.serviceIp, localServer,
    externalServer: `https://${advertiseIp ?? names[1]}:${CLUSTER.apiPort}`,
    notBefore: new Date(context.builtAt.getTime() - DAY_MS),
  });
  const script = await readLocalFile(FIRSTBOOT_SCRIPT, 'pikube first-boot script');
  const entries = planStatic(facts, {
    node, release: release.version, binaries, pkiFiles: pki.files,
    manifests: makeControlPlaneManifests(release, { node, ...(advertiseIp ? { advertiseIp } : {}) }),
    addons: makeAddonManifests(release, localServer),
    pauseImage: release.images.pause, nodeIp: advertiseIp,
    images: tarballs.map(({ reference, file: tarball }) => ({ reference, file: tarball })),
    script, builtAt: context.builtAt,
  });
  return { entries, inputs: [...binaries.inputs, ...imageInputs], kubeconfig: pki.adminKubeconfig };
}

export interface StaticInputs {
  node: string;
  release: string;
  binaries: StaticBinaries;
  pkiFiles: Array<{ path: string; content: string; mode: number }>;
  manifests: Array<{ path: string; content: string }>;
  addons: Array<{ path: string; content: string }>;
  pauseImage: string;
  nodeIp: string | undefined;
  images: Array<{ reference: string; file: LocalFile }>;
  script: LocalFile;
  builtAt: Date;
}

// The plan entries of the static profile, from inputs already acquired and generated (pure).
export function planStatic(facts: ImageFacts, inputs: StaticInputs): PlanEntry[] {
  const origin = `Kubernetes ${inputs.release} (static)`;
  return [
    file('/usr/local/bin/kubelet', host(inputs.binaries.kubelet), 0o755, origin),
    file('/usr/local/bin/kubectl', host(inputs.binaries.kubectl), 0o755, origin),
    ...inputs.binaries.containerd.map(({ name, file: binary }) => file(`/usr/local/bin/${name}`, host(binary), 0o755, 'containerd')),
    file('/usr/local/sbin/runc', host(inputs.binaries.runc), 0o755, 'runc'),
    ...inputs.binaries.cniPlugins.map(({ name, file: plugin }) => file(`/opt/cni/bin/${name}`, host(plugin), 0o755, 'CNI plugins')),
    file('/etc/containerd/config.toml', text(makeContainerdConfig(inputs.pauseImage)), 0o644, 'containerd'),
    file('/etc/systemd/system/containerd.service', text(makeContainerdUnit()), 0o644, 'containerd'),
    enable('containerd.service', 'containerd'),
    file('/etc/systemd/system/kubelet.service', text(makeKubeletUnit()), 0o644, origin),
    file('/etc/systemd/system/kubelet.service.d/10-kubeadm.conf', text(makeKubeletKubeadmDropIn()), 0o644, origin),
    file('/etc/systemd/system/kubelet.service.d/20-pikube.conf', text(makeKubeletPikubeDropIn()), 0o644, origin),
    enable('kubelet.service', origin),
    file('/var/lib/kubelet/config.yaml', text(makeKubeletConfig()), 0o644, origin),
    file('/var/lib/kubelet/kubeadm-flags.env', text(makeKubeletFlags(inputs.node, inputs.nodeIp)), 0o644, origin),
    file('/etc/cni/net.d/10-pikube-bridge.conflist', text(makeCniConfig()), 0o644, 'pod network'),
    { type: 'directory', partition: 'root', path: '/var/lib/etcd', mode: 0o700, uid: 0, gid: 0, origin },
    ...inputs.pkiFiles.map((f) => file(f.path, text(f.content), f.mode, 'cluster PKI made on the host')),
    ...inputs.manifests.map((m) => file(m.path, text(m.content), 0o600, `${origin} control plane`)),
    ...inputs.addons.map((m) => file(m.path, text(m.content), 0o644, `${origin} addons`)),
    ...inputs.images.map(({ reference, file: tarball }) => file(`${STATIC_IMAGE_DIR}/pikube-${safeName(reference)}.tar`, host(tarball), 0o644, `image ${reference}`)),
    ...planPiFixes(facts, inputs.builtAt),
    ...planFirstBoot({
      profile: 'static', role: 'server', node: inputs.node, architecture: facts.architecture, bootMount: facts.bootMount, imageDir: STATIC_IMAGE_DIR,
      builds: [], script: inputs.script, after: 'containerd.service',
      env: { PIKUBE_UNIT: 'kubelet', PIKUBE_KUBECONFIG: '/etc/kubernetes/super-admin.conf', PIKUBE_PAUSE_IMAGE: inputs.pauseImage, PIKUBE_ADDONS: '/etc/kubernetes/addons', PIKUBE_IMAGES_IMPORTED: IMAGES_IMPORTED },
    }),
  ];
}
