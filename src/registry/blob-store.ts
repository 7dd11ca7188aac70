import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ToolError } from '../errors.ts';
import { blobPath as cachedBlobPath, commitBlob, findBlob, recordVerified, touchBlob, verifyBlob } from '../acquire/cache-store.ts';
import { log } from '../log.ts';

const SHA256 = /^sha256:([a-f0-9]{64})$/;

// The hex half of a sha256 digest; anything else is refused before it can name a path.
export function digestHex(digest: string): string {
  const match = SHA256.exec(digest);
  if (!match?.[1]) throw new ToolError({ command: 'registry', message: `unsupported or malformed digest "${digest}"`, hint: 'pikube verifies sha256 digests only; the registry or manifest sent something else' });
  return match[1];
}

// Where a verified blob lives: the download cache's own content-addressed layout, so both share blobs.
export function blobPath(cacheDir: string, digest: string): string {
  return cachedBlobPath(cacheDir, digestHex(digest));
}

// Where an unfinished download waits to be resumed; same filesystem as the blobs so the final rename is atomic.
export function partialBlobPath(cacheDir: string, digest: string): string {
  return join(cacheDir, 'tmp', `${digestHex(digest)}.partial`);
}

// Whether the blob is cached with the expected size and its bytes are proven (hashed again when the file changed
// since its last check); a damaged copy is removed, so an online pull fetches it again and an offline one can say
// why it is gone. A hit marks the blob used, so `cache prune --older-than` keeps layers that builds still use.
export async function checkBlob(cacheDir: string, digest: string, size?: number, signal?: AbortSignal): Promise<'ok' | 'missing' | 'damaged'> {
  const found = await findBlob(cacheDir, digestHex(digest));
  if (!found || (size !== undefined && found.size !== size)) return 'missing';
  const checked = await verifyBlob(cacheDir, digestHex(digest), signal);
  if (checked.state === 'damaged') {
    log.warn(`the cached blob ${digest} (${checked.path}) is damaged: it hashes to sha256:${checked.actual}; removed it`);
    return 'damaged';
  }
  return checked.state === 'ok' ? 'ok' : 'missing';
}

// checkBlob's answer as a yes or no, for a pull that fetches whatever is not proven.
export async function hasBlob(cacheDir: string, digest: string, size?: number, signal?: AbortSignal): Promise<boolean> {
  return (await checkBlob(cacheDir, digest, size, signal)) === 'ok';
}

// sha256:<hex> of some bytes.
export function digestOf(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

// The error every digest check throws, naming what was expected and what arrived.
export function digestMismatch(digest: string, actual: string, source: string): ToolError {
  return new ToolError({
    command: source,
    message: `digest mismatch for ${digest}: the bytes from ${source} hash to ${actual}`,
    hint: 'the registry, a mirror or a proxy in between changed the data (or the cache was corrupted); the bad copy was discarded, run the pull again',
  });
}

// Stores small bytes (manifests, configs) under their digest, refusing them if they do not match.
export async function writeBlob(cacheDir: string, digest: string, data: Buffer, source: string): Promise<void> {
  const actual = digestOf(data);
  if (actual !== digest) throw digestMismatch(digest, actual, source);
  const target = blobPath(cacheDir, digest);
  const temp = join(cacheDir, 'tmp', `${digestHex(digest)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  await mkdir(dirname(temp), { recursive: true });
  await mkdir(dirname(target), { recursive: true });
  try {
    await writeFile(temp, data);
    await rename(temp, target);
    await recordVerified(cacheDir, digestHex(digest));
  } finally {
    await rm(temp, { force: true });
  }
}

// Moves a finished, verified download into place.
export async function commitPartialBlob(cacheDir: string, digest: string): Promise<void> {
  await commitBlob(cacheDir, partialBlobPath(cacheDir, digest), digestHex(digest));
}

// Reads a small cached blob back, verifying it; a corrupted copy is deleted so the next online pull replaces it.
export async function readBlob(cacheDir: string, digest: string): Promise<Buffer> {
  const path = blobPath(cacheDir, digest);
  const data = await readFile(path);
  const actual = digestOf(data);
  if (actual !== digest) {
    await rm(path, { force: true });
    throw digestMismatch(digest, actual, `the cache (${path})`);
  }
  await touchBlob(cacheDir, digestHex(digest));
  await recordVerified(cacheDir, digestHex(digest));
  return data;
}
