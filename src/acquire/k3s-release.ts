import { UserError } from '../errors.ts';

// k3s publishes three Linux ARM-relevant builds; the binary's suffix and the other assets' arch name differ for armhf.
const ASSET_ARCH: Record<string, { binary: string; arch: string }> = {
  arm64: { binary: 'k3s-arm64', arch: 'arm64' },
  armhf: { binary: 'k3s-armhf', arch: 'arm' },
  amd64: { binary: 'k3s', arch: 'amd64' },
};

// Defaults that run on each base: Hypriot's kernel 4.19 has only cgroup v1, and from Kubernetes 1.35 the kubelet
// refuses to start on cgroup v1 (failCgroupV1 defaults to true), so armhf stays on the 1.34 line, the last that runs
// there unchanged; arm64 Raspberry Pi OS (cgroup v2) gets the current stable line.
export const DEFAULT_K3S_VERSION: Record<string, string> = {
  armhf: 'v1.34.11+k3s1',
  arm64: 'v1.36.4+k3s1',
};

export interface K3sAssets {
  version: string;
  binaryUrl: string;
  binaryName: string;
  airgapUrl: string;
  airgapName: string;
  checksumsUrl: string;
}

const RELEASES = 'https://github.com/k3s-io/k3s/releases/download';

// Why a version is not a k3s release tag (k3s tags end in +k3sN), or undefined; shared by the recipe check and the
// download.
export function checkK3sVersion(version: string): { message: string; hint: string } | undefined {
  if (/^v\d+\.\d+\.\d+(-rc\d+)?\+k3s\d+$/.test(version)) return undefined;
  return { message: `kubernetes.version ${version} is not a k3s release`, hint: 'k3s versions look like v1.34.11+k3s1; see the k3s releases page' };
}

// The release URLs for one version and architecture (the `+` of the tag is written %2B, as k3s's docs do).
export function getK3sAssets(version: string, architecture: string): K3sAssets {
  const names = ASSET_ARCH[architecture];
  if (!names || architecture === 'amd64') {
    throw new UserError(`k3s has no build for a ${architecture} Raspberry Pi image`, 'use an armhf (Hypriot, 32-bit Raspberry Pi OS) or arm64 (64-bit Raspberry Pi OS) base');
  }
  const problem = checkK3sVersion(version);
  if (problem) throw new UserError(problem.message, problem.hint);
  const base = `${RELEASES}/${encodeURIComponent(version)}`;
  const airgapName = `k3s-airgap-images-${names.arch}.tar.zst`;
  return {
    version,
    binaryUrl: `${base}/${names.binary}`,
    binaryName: names.binary,
    airgapUrl: `${base}/${airgapName}`,
    airgapName,
    checksumsUrl: `${base}/sha256sum-${names.arch}.txt`,
  };
}
