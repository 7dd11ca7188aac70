import type { AcquireOptions } from '../acquire/acquire-options.ts';
import { fetchArtifact, type FetchedArtifact } from '../acquire/fetch-artifact.ts';
import type { LocalFile } from '../acquire/local-inputs.ts';
import { DEFAULT_K3S_VERSION, getK3sAssets } from '../acquire/k3s-release.ts';
import { UserError } from '../errors.ts';
import type { K3sArtifacts } from '../kube/plan-kubernetes.ts';

// Downloads (or finds in the cache) the k3s binary and airgap images for the image's architecture, both checked
// against the release's own sha256sum-<arch>.txt, so any published version works without a pinned digest.
export async function acquireK3s(requested: string | undefined, architecture: string, options: AcquireOptions): Promise<K3sArtifacts> {
  const version = requested ?? DEFAULT_K3S_VERSION[architecture];
  if (!version) {
    throw new UserError(`no k3s build runs on a ${architecture} image`, 'use an armhf (Hypriot) or arm64 (Raspberry Pi OS) base');
  }
  const assets = getK3sAssets(version, architecture);
  const fetch = async (url: string, name: string): Promise<FetchedArtifact> => {
    try {
      return await fetchArtifact(url, { checksumUrl: assets.checksumsUrl, checksumName: name }, options);
    } catch (error) {
      if (error instanceof UserError && /\b404\b|not found/i.test(error.message) && /sha256sum/.test(error.message)) {
        throw new UserError(`k3s ${version} is not a published release (its ${assets.checksumsUrl.split('/').pop()} does not exist)`,
          `choose a version from the k3s releases, or leave kubernetes.version out for the default (${DEFAULT_K3S_VERSION[architecture]})`, { cause: error });
      }
      throw error;
    }
  };
  const binary = await fetch(assets.binaryUrl, assets.binaryName);
  const airgap = await fetch(assets.airgapUrl, assets.airgapName);
  const local = (artifact: FetchedArtifact): LocalFile => ({ hostPath: artifact.path, size: artifact.size, mode: 0o644, sha256: artifact.sha256 });
  return {
    version,
    binary: local(binary),
    airgap: { ...local(airgap), name: assets.airgapName },
    inputs: [
      { role: 'k3s', name: assets.binaryName, sha256: binary.sha256, url: binary.url },
      { role: 'k3s-airgap', name: assets.airgapName, sha256: airgap.sha256, url: airgap.url },
    ],
  };
}
