import { posix } from 'node:path';
import { listNodeAddresses } from '../node-address.ts';
import { stringify } from 'yaml';
import type { LocalFile, OverlayItem } from '../../acquire/local-inputs.ts';
import type { OverlayScripts } from '../../acquire/overlay-scripts.ts';
import type { Recipe } from '../../config/schema.ts';
import type { ImageFacts, PlanEntry } from '../../plan/types.ts';
import { planFirstBoot } from '../firstboot.ts';
import { planPiFixes } from '../pi-fixes.ts';
import type { K3sPki } from '../pki/k3s-pki.ts';
import { makeK3sUnit } from './k3s-unit.ts';
import { planServerPin } from './pin-server.ts';
import { makeEnableLink, makeFileEntry, makeHostContent, makeTextEntry } from '../../plan/entries.ts';

export const K3S_IMAGE_DIR = '/var/lib/rancher/k3s/agent/images';
const BUILD_DIR = '/var/lib/pikube/build';

export interface K3sInputs {
  version: string;
  binary: LocalFile;
  airgap: LocalFile & { name: string };
  pki: K3sPki;
  // Image tarballs pulled for the recipe's `images:`, by reference.
  images: Array<{ reference: string; file: LocalFile }>;
  // Dockerfile contexts for `kubernetes.build`, walked like an overlay.
  builds: Array<{ name: string; items: OverlayItem[] }>;
  // pikube's scripts (first boot, boot-test finish, server pin), read at gather time.
  scripts: OverlayScripts;
  builtAt: Date;
  // The node's place in a `cluster:`; a single-card build is a lone server.
  node?: K3sNodeRole;
}

// How one card of a cluster runs k3s: a server (the first one may start embedded etcd for others to join) or an
// agent that joins `server` with the cluster's one token.
export interface K3sNodeRole {
  role: 'server' | 'agent';
  // https://NAME:6443 of the server to join (agents, and servers after the first).
  server?: string;
  clusterInit?: boolean;
  // Every name and address agents and kubectl use for any server.
  tlsSan: string[];
  serviceCidr?: string;
  clusterCidr?: string;
}

// Everything a k3s server (or a cluster's agent) needs on the card so that no installer runs on the Pi: binary,
// airgap images, config, the installer's unit, the cluster CAs made on the host (servers only), the Pi fixes and
// the first-boot unit.
export function planK3s(recipe: Recipe, facts: ImageFacts, inputs: K3sInputs): PlanEntry[] {
  const origin = `k3s ${inputs.version}`;
  const node = recipe.hostname ?? 'raspberrypi';
  const { names, ips } = listNodeAddresses(recipe);
  const role = inputs.node ?? { role: 'server', tlsSan: [...names, ...ips] };
  const unit = role.role === 'server' ? 'k3s' : 'k3s-agent';
  const config: Record<string, unknown> = role.role === 'server'
    ? {
      'node-name': node,
      token: inputs.pki.token,
      ...(role.clusterInit ? { 'cluster-init': true } : {}),
      ...(role.server ? { server: role.server } : {}),
      'tls-san': role.tlsSan,
      'write-kubeconfig-mode': '0600',
      ...(ips[0] ? { 'node-ip': ips[0] } : {}),
      ...(role.clusterCidr ? { 'cluster-cidr': role.clusterCidr } : {}),
      ...(role.serviceCidr ? { 'service-cidr': role.serviceCidr } : {}),
      ...(recipe.kubernetes?.disable.length ? { disable: recipe.kubernetes.disable } : {}),
    }
    : { server: role.server, token: inputs.pki.token, 'node-name': node, ...(ips[0] ? { 'node-ip': ips[0] } : {}) };
  // k3s's known issue with iptables 1.8.0-1.8.4 (k3s docs, known-issues), which Debian 10 (Buster, Hypriot) ships:
  // use the iptables k3s bundles.
  if (facts.hypriot || Number.parseInt(facts.osRelease.VERSION_ID ?? '99', 10) <= 10) config['prefer-bundled-bin'] = true;
  const serverHost = role.server ? new URL(role.server).hostname : undefined;
  const entries: PlanEntry[] = [
    makeFileEntry('root', '/usr/local/bin/k3s', makeHostContent(inputs.binary), 0o755, origin),
    ...['kubectl', 'crictl', 'ctr'].map((name): PlanEntry => ({ type: 'symlink', partition: 'root', path: `/usr/local/bin/${name}`, target: 'k3s', uid: 0, gid: 0, origin })),
    makeFileEntry('root', `${K3S_IMAGE_DIR}/${inputs.airgap.name}`, makeHostContent(inputs.airgap), 0o644, `${origin} airgap images`),
    makeTextEntry('root', '/etc/rancher/k3s/config.yaml', `# written by pikube\n${stringify(config)}`, 0o600, origin),
    makeTextEntry('root', `/etc/systemd/system/${unit}.service`, makeK3sUnit(role.role), 0o644, origin),
    makeTextEntry('root', `/etc/systemd/system/${unit}.service.env`, '', 0o600, origin),
    makeEnableLink(`${unit}.service`, origin),
    ...(role.role === 'agent' ? [] : inputs.pki.files).map((f) => makeTextEntry('root', f.path, f.content, f.mode, 'cluster PKI made on the host')),
    ...inputs.images.map(({ reference, file: tarball }) => makeFileEntry('root', `${K3S_IMAGE_DIR}/pikube-${safeName(reference)}.tar`, makeHostContent(tarball), 0o644, `image ${reference}`)),
    ...inputs.builds.flatMap(({ name, items }) => buildContextEntries(name, items)),
    ...planPiFixes(facts, inputs.builtAt),
    ...planFirstBoot({
      profile: 'k3s', role: role.role, node, architecture: facts.architecture, bootMount: facts.bootMount, imageDir: K3S_IMAGE_DIR,
      builds: inputs.builds.map(({ name }) => ({ name, directory: `${BUILD_DIR}/${safeName(name)}` })), scripts: inputs.scripts, after: `${unit}.service`,
      ...(serverHost ? { env: { PIKUBE_SERVER_HOST: serverHost } } : {}),
    }),
    ...(serverHost ? planServerPin(unit, serverHost, inputs.scripts.pinServer) : []),
  ];
  // Only where the kubelet will find cgroup v1 (Hypriot's Buster): Raspberry Pi OS runs cgroup v2.
  if (failsOnCgroupV1(inputs.version) && facts.cgroupV1) {
    entries.push(makeTextEntry('root', '/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/10-pikube-cgroup-v1.conf', 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n# Kubernetes 1.35+ refuses cgroup v1 by default; older Pi kernels (Hypriot) only have v1.\nfailCgroupV1: false\n', 0o644, `${origin} (cgroup v1 allowed)`));
  }
  return entries;
}

function buildContextEntries(name: string, items: readonly OverlayItem[]): PlanEntry[] {
  const root = `${BUILD_DIR}/${safeName(name)}`;
  const origin = `kubernetes.build ${name}`;
  return [
    { type: 'directory', partition: 'root', path: root, mode: 0o755, uid: 0, gid: 0, origin },
    ...items.map((item): PlanEntry => {
      const path = posix.join(root, item.relative);
      if (item.kind === 'directory') return { type: 'directory', partition: 'root', path, mode: item.mode, uid: 0, gid: 0, origin };
      if (item.kind === 'symlink') return { type: 'symlink', partition: 'root', path, target: item.target, uid: 0, gid: 0, origin };
      return makeFileEntry('root', path, makeHostContent(item), item.mode, origin);
    }),
  ];
}

// Image references become file names: registry.k8s.io/pause:3.10 -> registry.k8s.io_pause_3.10.
export function safeName(reference: string): string {
  return reference.replace(/[^A-Za-z0-9._-]+/g, '_');
}

// Whether this k3s version's kubelet refuses cgroup v1 unless told otherwise (Kubernetes 1.35 and later).
export function failsOnCgroupV1(version: string): boolean {
  const minor = Number(/^v1\.(\d+)\./.exec(version)?.[1] ?? 0);
  return minor >= 35;
}
