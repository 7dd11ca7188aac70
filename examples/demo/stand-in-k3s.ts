// DEMO AND TESTS ONLY: a stand-in k3s release, laid out and checksummed like the real one, that runs nothing.
import { createHash } from 'node:crypto';
import { getK3sAssets } from '../../src/acquire/k3s-release.ts';
import { elfHeader } from '../make-demo-base.ts';
import type { MirrorServer } from './serve-mirror.ts';

export interface StandInRelease {
  binary: Buffer;
  airgap: Buffer;
}

// Serves the release on the mirror: a binary that is a real ELF header for the architecture and nothing runnable,
// a labelled airgap tarball stand-in, and sha256sum-<arch>.txt in the upstream format.
export function serveStandInK3s(mirror: Pick<MirrorServer, 'serve'>, version: string, architecture: 'armhf' | 'arm64', options: { omitBinaryChecksum?: boolean; wrongBinaryChecksum?: boolean } = {}): StandInRelease {
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
