import { createHash } from 'node:crypto';
import { elfHeader } from '../../examples/make-demo-base.ts';
import { getK3sAssets } from '../../src/kube/k3s/k3s-release.ts';
import type { Mirror } from './mirror.ts';

export interface FakeRelease {
  binary: Buffer;
  airgap: Buffer;
}

// Serves a k3s release on the test mirror: a stand-in binary (a real ELF header for the architecture, nothing
// runnable), a stand-in airgap tarball, and the release's sha256sum-<arch>.txt in the upstream format.
export function serveK3sRelease(mirror: Mirror, version: string, architecture: 'armhf' | 'arm64', options: { omitBinaryChecksum?: boolean; wrongBinaryChecksum?: boolean } = {}): FakeRelease {
  const assets = getK3sAssets(version, architecture);
  const binary = Buffer.concat([elfHeader(architecture), Buffer.alloc(256 * 1024, 0x6b)]);
  const airgap = Buffer.from(`stand-in airgap images for ${architecture} ${version}\n`.repeat(1000));
  const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  const lines = [`${sha(airgap)}  ${assets.airgapName}`];
  if (!options.omitBinaryChecksum) lines.push(`${options.wrongBinaryChecksum ? sha(Buffer.from('other')) : sha(binary)}  ${assets.binaryName}`);
  mirror.serve(assets.binaryUrl, binary);
  mirror.serve(assets.airgapUrl, airgap);
  mirror.serve(assets.checksumsUrl, `${lines.join('\n')}\n`);
  return { binary, airgap };
}
