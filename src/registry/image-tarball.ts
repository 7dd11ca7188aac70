import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { InterruptedError } from '../errors.ts';
import { blobPath, digestHex, digestMismatch } from './blob-store.ts';
import { MEDIA_TYPES } from './manifest.ts';
import type { PulledImage } from './pull-image.ts';
import { makeTarHeader, TAR_END, tarPadding } from './ustar.ts';
import { readSourceDateEpoch } from '../source-date-epoch.ts';

// Knobs for writeImageTarball; the defaults give reproducible bytes.
export interface TarballOptions {
  signal?: AbortSignal;
  // Seconds since the epoch stamped on every entry; SOURCE_DATE_EPOCH, else 0.
  mtime?: number;
}

// The tarball as written.
export interface WrittenTarball {
  path: string;
  size: number;
  // Hex sha256 of the whole tarball.
  sha256: string;
}

interface Entry {
  name: string;
  type: 'file' | 'directory';
  data?: Buffer;
  blob?: { digest: string; size: number };
}

// Writes the image as one tar holding an OCI image layout and docker's manifest.json, so `ctr images import`,
// k3s and `docker load` all accept it; the same image gives the same bytes, and every blob is re-verified on the way out.
export async function writeImageTarball(pulled: PulledImage, destPath: string, options: TarballOptions = {}): Promise<WrittenTarball> {
  const mtime = options.mtime ?? readSourceDateEpoch() ?? 0;
  const entries = listEntries(pulled);
  const temp = join(dirname(destPath), `.${basename(destPath)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  const handle = await open(temp, 'w');
  // The tarball's own digest, taken from the bytes as they are written, so nobody reads the file again to hash it.
  const whole = createHash('sha256');
  let written = 0;
  const write = async (bytes: Buffer) => {
    whole.update(bytes);
    written += bytes.length;
    await handle.write(bytes);
  };
  try {
    for (const entry of entries) {
      if (options.signal?.aborted) throw new InterruptedError();
      const size = entry.data?.length ?? entry.blob?.size ?? 0;
      await write(makeTarHeader({ name: entry.name, type: entry.type, size, mode: entry.type === 'directory' ? 0o755 : 0o644, mtime }));
      if (entry.data) await write(entry.data);
      if (entry.blob) await copyVerifiedBlob(pulled.cacheDir, entry.blob, write, options.signal);
      await write(tarPadding(size));
    }
    await write(TAR_END);
    await handle.close();
    await rename(temp, destPath);
  } finally {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
  }
  return { path: destPath, size: written, sha256: whole.digest('hex') };
}

// The tar's contents, sorted by name: blob directories and blobs, index.json, manifest.json, oci-layout.
function listEntries(pulled: PulledImage): Entry[] {
  const blobs = new Map<string, { digest: string; size: number }>();
  for (const descriptor of [pulled.manifest, pulled.config, ...pulled.layers]) blobs.set(descriptor.digest, { digest: descriptor.digest, size: descriptor.size });
  const blobName = (digest: string) => `blobs/sha256/${digestHex(digest)}`;
  const annotations: Record<string, string> = { 'io.containerd.image.name': pulled.name };
  if (pulled.reference.tag) annotations['org.opencontainers.image.ref.name'] = pulled.reference.tag;
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [{
      mediaType: pulled.manifest.mediaType,
      digest: pulled.manifest.digest,
      size: pulled.manifest.size,
      annotations,
      platform: { architecture: pulled.platform.architecture, os: pulled.platform.os, ...(pulled.platform.variant ? { variant: pulled.platform.variant } : {}) },
    }],
  };
  const dockerManifest = [{
    Config: blobName(pulled.config.digest),
    RepoTags: pulled.reference.tag ? [pulled.name] : [],
    Layers: pulled.layers.map((layer) => blobName(layer.digest)),
  }];
  const entries: Entry[] = [
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
    ...[...blobs.values()].map((blob) => ({ name: blobName(blob.digest), type: 'file' as const, blob })),
    { name: 'index.json', type: 'file', data: Buffer.from(`${JSON.stringify(index)}\n`) },
    { name: 'manifest.json', type: 'file', data: Buffer.from(`${JSON.stringify(dockerManifest)}\n`) },
    { name: 'oci-layout', type: 'file', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}\n') },
  ];
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function copyVerifiedBlob(cacheDir: string, blob: { digest: string; size: number }, write: (bytes: Buffer) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const path = blobPath(cacheDir, blob.digest);
  const hash = createHash('sha256');
  let copied = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
    if (signal?.aborted) throw new InterruptedError();
    const bytes = chunk as Buffer;
    copied += bytes.length;
    if (copied > blob.size) break;
    hash.update(bytes);
    await write(bytes);
  }
  const actual = `sha256:${hash.digest('hex')}`;
  if (copied !== blob.size || actual !== blob.digest) {
    await rm(path, { force: true });
    throw digestMismatch(blob.digest, copied === blob.size ? actual : `${copied} bytes instead of ${blob.size}`, `the cache (${path})`);
  }
}
