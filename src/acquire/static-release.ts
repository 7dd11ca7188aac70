import { UserError } from '../errors.ts';
import catalogJson from './static-catalog.json' with { type: 'json' };

interface MinorPins {
  pause: string;
  etcd: string;
  coredns: string;
}

interface StaticCatalog {
  defaultVersion: string;
  minors: Record<string, MinorPins>;
  containerd: string;
  runc: string;
  cniPlugins: string;
  imageRegistry: string;
}

const CATALOG: StaticCatalog = catalogJson;

// The default Kubernetes release of the static profile (the current stable line).
export const DEFAULT_STATIC_VERSION = CATALOG.defaultVersion;

export interface StaticImages {
  apiserver: string;
  controllerManager: string;
  scheduler: string;
  proxy: string;
  etcd: string;
  coredns: string;
  pause: string;
}

export interface StaticRelease {
  version: string;
  minor: number;
  // The etcd release line the pinned etcd image belongs to; its flags differ between 3.5 and 3.6+.
  etcdMinor: number;
  images: StaticImages;
  downloads: StaticDownload[];
}

export interface StaticDownload {
  // Where the file goes: a binary, or an archive to unpack.
  role: 'kubelet' | 'kubectl' | 'containerd' | 'runc' | 'cni-plugins';
  url: string;
  checksumUrl: string;
  name: string;
}

// Why a version cannot be built by the static profile (not an upstream release, or a minor without pinned images),
// or undefined; shared by the recipe check, which reports it with the YAML line, and the planner.
export function checkStaticVersion(version: string): { message: string; hint: string } | undefined {
  const match = /^v1\.(\d+)\.(\d+)(-rc\d+)?$/.exec(version);
  const supported = Object.keys(CATALOG.minors);
  const range = `${supported[0]}–${supported[supported.length - 1]}`;
  if (!match) {
    return { message: `kubernetes.version ${version} is not an upstream Kubernetes release`, hint: `the static profile takes versions such as ${CATALOG.defaultVersion} (${range}); k3s versions need \`distribution: k3s\`` };
  }
  if (!CATALOG.minors[`1.${match[1]}`]) {
    return { message: `Kubernetes ${version} is not supported by the static profile (it supports ${range})`, hint: `choose a ${range} release, or leave kubernetes.version out for ${CATALOG.defaultVersion}` };
  }
  return undefined;
}

// Resolves the recipe's version (or the default) for a base architecture into the images kubeadm pairs with it
// and every download with its published checksum file; refuses what upstream does not build.
export function resolveStaticRelease(requested: string | undefined, architecture: string): StaticRelease {
  if (architecture !== 'arm64') {
    throw new UserError(`the static Kubernetes profile needs a 64-bit (arm64) base, and this one is ${architecture}`,
      'upstream Kubernetes ships no 32-bit ARM server binaries or images since 1.27: use `kubernetes: { distribution: k3s }` (k3s still builds armhf), or a 64-bit Raspberry Pi OS base');
  }
  const version = requested ?? CATALOG.defaultVersion;
  const problem = checkStaticVersion(version);
  if (problem) throw new UserError(problem.message, problem.hint);
  const match = /^v1\.(\d+)\.(\d+)(-rc\d+)?$/.exec(version) ?? [];
  const pins = CATALOG.minors[`1.${match[1]}`] as MinorPins;
  const registry = CATALOG.imageRegistry;
  const dl = `https://dl.k8s.io/release/${version}/bin/linux/arm64`;
  const containerdName = `containerd-${CATALOG.containerd}-linux-arm64.tar.gz`;
  const containerdBase = `https://github.com/containerd/containerd/releases/download/v${CATALOG.containerd}`;
  const runcBase = `https://github.com/opencontainers/runc/releases/download/${CATALOG.runc}`;
  const cniName = `cni-plugins-linux-arm64-${CATALOG.cniPlugins}.tgz`;
  const cniBase = `https://github.com/containernetworking/plugins/releases/download/${CATALOG.cniPlugins}`;
  return {
    version,
    minor: Number(match[1]),
    etcdMinor: Number(/^3\.(\d+)\./.exec(pins.etcd)?.[1] ?? 5),
    images: {
      apiserver: `${registry}/kube-apiserver:${version}`,
      controllerManager: `${registry}/kube-controller-manager:${version}`,
      scheduler: `${registry}/kube-scheduler:${version}`,
      proxy: `${registry}/kube-proxy:${version}`,
      etcd: `${registry}/etcd:${pins.etcd}`,
      coredns: `${registry}/coredns/coredns:${pins.coredns}`,
      pause: `${registry}/pause:${pins.pause}`,
    },
    downloads: [
      { role: 'kubelet', url: `${dl}/kubelet`, checksumUrl: `${dl}/kubelet.sha256`, name: 'kubelet' },
      { role: 'kubectl', url: `${dl}/kubectl`, checksumUrl: `${dl}/kubectl.sha256`, name: 'kubectl' },
      { role: 'containerd', url: `${containerdBase}/${containerdName}`, checksumUrl: `${containerdBase}/${containerdName}.sha256sum`, name: containerdName },
      { role: 'runc', url: `${runcBase}/runc.arm64`, checksumUrl: `${runcBase}/runc.sha256sum`, name: 'runc.arm64' },
      { role: 'cni-plugins', url: `${cniBase}/${cniName}`, checksumUrl: `${cniBase}/${cniName}.sha256`, name: cniName },
    ],
  };
}
