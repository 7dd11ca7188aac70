import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AcquireOptions } from '../acquire/acquire-options.ts';
import { fetchArtifact, type FetchedArtifact } from '../acquire/fetch-artifact.ts';
import { readOverlay, type LocalFile } from '../acquire/local-inputs.ts';
import type { StaticDownload, StaticRelease } from '../acquire/static-release.ts';
import { UserError } from '../errors.ts';
import type { StaticBinaries } from '../kube/static/plan-static.ts';
import { extractArchive } from '../tools/tar.ts';

// Downloads (or finds in the cache) every binary the static profile installs, each checked against the checksum
// file its project publishes beside it, and unpacks containerd and the CNI plugins into workDir.
export async function acquireStaticBinaries(release: StaticRelease, workDir: string, options: AcquireOptions): Promise<StaticBinaries> {
  const fetched = new Map<StaticDownload['role'], FetchedArtifact>();
  for (const download of release.downloads) {
    try {
      fetched.set(download.role, await fetchArtifact(download.url, { checksumUrl: download.checksumUrl, checksumName: download.name }, options));
    } catch (error) {
      if (error instanceof UserError && download.role === 'kubelet' && /\b404\b|not found/i.test(error.message)) {
        throw new UserError(`Kubernetes ${release.version} is not a published release (${download.checksumUrl} does not exist)`,
          'choose a released version (see https://kubernetes.io/releases/), or leave kubernetes.version out for the default', { cause: error });
      }
      throw error;
    }
  }
  const local = (role: StaticDownload['role'], mode: number): LocalFile => {
    const artifact = fetched.get(role)!;
    return { hostPath: artifact.path, size: artifact.size, mode, sha256: artifact.sha256 };
  };
  const unpack = async (role: StaticDownload['role'], folder: string): Promise<Array<{ name: string; file: LocalFile }>> => {
    const target = join(workDir, folder);
    await mkdir(target, { recursive: true });
    await extractArchive(fetched.get(role)!.path, target, options.signal);
    return (await readOverlay(target)).flatMap((item) => (item.kind === 'file' && (item.mode & 0o111) !== 0
      ? [{ name: item.relative.replace(/^bin\//, ''), file: { hostPath: item.hostPath, size: item.size, mode: 0o755, sha256: item.sha256 } }]
      : []));
  };
  const containerd = (await unpack('containerd', 'containerd')).filter(({ name }) => !name.includes('/'));
  if (!containerd.some(({ name }) => name === 'containerd')) {
    throw new UserError(`${fetched.get('containerd')!.url} holds no bin/containerd`, 'check the mirror\'s copy of the containerd release');
  }
  const cniPlugins = (await unpack('cni-plugins', 'cni-plugins')).filter(({ name }) => !name.includes('/'));
  return {
    kubelet: local('kubelet', 0o755),
    kubectl: local('kubectl', 0o755),
    runc: local('runc', 0o755),
    containerd,
    cniPlugins,
    inputs: release.downloads.map((download) => ({ role: download.role, name: download.name, sha256: fetched.get(download.role)!.sha256, url: download.url })),
  };
}
