import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import path from 'node:path';
import { hashFile } from './hash-file.ts';

// What the cache knows about a URL: the verified digest of what it served.
export interface IndexRecord {
  url: string;
  sha256: string;
  size: number;
  fetchedAt: string;
  checksumUrl?: string;
}

// Short, filesystem-safe name for everything kept per URL (index record, partial download, lock).
export function keyForUrl(url: string): string {
  return createHash('sha256').update(url).digest('hex').slice(0, 32);
}

// Where the content with this digest lives once verified.
export function blobPath(cacheDir: string, sha256: string): string {
  return path.join(cacheDir, 'blobs', 'sha256', sha256);
}

// Where an unverified download grows until its digest is checked.
export function partialPath(cacheDir: string, url: string): string {
  return path.join(cacheDir, 'partial', `${keyForUrl(url)}.part`);
}

// The verified blob for a digest, if the cache has it.
export async function findBlob(cacheDir: string, sha256: string): Promise<{ path: string; size: number } | undefined> {
  const file = blobPath(cacheDir, sha256);
  try {
    const info = await stat(file);
    return info.isFile() ? { path: file, size: info.size } : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

// The index record for a URL whose blob is still present.
export async function readIndexRecord(cacheDir: string, url: string): Promise<IndexRecord | undefined> {
  const record = await readRecordFile(path.join(cacheDir, 'index', `${keyForUrl(url)}.json`));
  if (!record || record.url !== url) return undefined;
  return (await findBlob(cacheDir, record.sha256)) ? record : undefined;
}

// Written by rename so a reader never sees half a record.
export async function writeIndexRecord(cacheDir: string, record: IndexRecord): Promise<void> {
  const file = path.join(cacheDir, 'index', `${keyForUrl(record.url)}.json`);
  await writeFileAtomically(file, `${JSON.stringify(record, null, 2)}\n`);
}

// Makes a verified download visible under its digest in one rename.
export async function commitBlob(cacheDir: string, verifiedFile: string, sha256: string): Promise<string> {
  const target = blobPath(cacheDir, sha256);
  await mkdir(path.dirname(target), { recursive: true });
  await rename(verifiedFile, target);
  await recordVerified(cacheDir, sha256);
  return target;
}

// What a cached blob proved to be when it was about to be used.
export type BlobCheck =
  | { state: 'ok'; path: string; size: number }
  | { state: 'missing' }
  // Its bytes no longer hash to its name (disk fault, an edit, a bad copy): it has been removed from the cache.
  | { state: 'damaged'; path: string; actual: string; size: number };

// Where the identity of a blob at its last verification is kept.
function stampPath(cacheDir: string, sha256: string): string {
  return path.join(cacheDir, 'verified', `${sha256}.stamp`);
}

// A file's identity as the kernel keeps it: any write, truncation, copy over it or replacement changes one of these.
function identityOf(info: BigIntStats): string {
  return [info.dev, info.ino, info.size, info.mtimeNs, info.ctimeNs].join(':');
}

// Notes that the blob holds its digest's bytes as it is now, so the next use need not read it again.
export async function recordVerified(cacheDir: string, sha256: string): Promise<void> {
  const info = await stat(blobPath(cacheDir, sha256), { bigint: true });
  await writeFileAtomically(stampPath(cacheDir, sha256), `${identityOf(info)}\n`);
}

// Proves a cached blob still holds the bytes its name promises before it is used: hashed again whenever its
// size, inode, modification or change time differ from its last verification (cheap when nothing changed),
// evicted when the hash differs. A hit marks it used now, so prune --older-than keeps what builds still use.
export async function verifyBlob(cacheDir: string, sha256: string, signal?: AbortSignal): Promise<BlobCheck> {
  const file = blobPath(cacheDir, sha256);
  const info = await stat(file, { bigint: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!info?.isFile()) return { state: 'missing' };
  const stamp = await readFile(stampPath(cacheDir, sha256), 'utf8').catch(() => '');
  if (stamp.trim() !== identityOf(info)) {
    const { sha256: actual, size } = await hashFile(file, signal);
    if (actual !== sha256) {
      await rm(file, { force: true });
      await rm(stampPath(cacheDir, sha256), { force: true });
      return { state: 'damaged', path: file, actual, size };
    }
  }
  await touchBlob(cacheDir, sha256);
  await recordVerified(cacheDir, sha256);
  return { state: 'ok', path: file, size: Number(info.size) };
}

// Removes what the cache remembers about a blob's last verification (with the blob, by prune).
export async function forgetVerified(cacheDir: string, sha256: string): Promise<void> {
  await rm(stampPath(cacheDir, sha256), { force: true });
}

// Marks a blob as used now, so prune --older-than keeps what builds still use.
export async function touchBlob(cacheDir: string, sha256: string): Promise<void> {
  const now = new Date();
  await utimes(blobPath(cacheDir, sha256), now, now).catch(() => undefined);
}

// Every index record in the cache, unreadable ones skipped.
export async function listIndexRecords(cacheDir: string): Promise<IndexRecord[]> {
  const dir = path.join(cacheDir, 'index');
  const names = await readdir(dir).catch(() => [] as string[]);
  const records = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => readRecordFile(path.join(dir, n))));
  return records.filter((r): r is IndexRecord => r !== undefined);
}

// Removes the index record of a URL (used by prune).
export async function removeIndexRecord(cacheDir: string, url: string): Promise<void> {
  await rm(path.join(cacheDir, 'index', `${keyForUrl(url)}.json`), { force: true });
}

async function readRecordFile(file: string): Promise<IndexRecord | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Partial<IndexRecord>;
    if (typeof value.url !== 'string' || typeof value.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(value.sha256)) return undefined;
    return value as IndexRecord;
  } catch {
    return undefined;
  }
}

// Temp file in the same directory, then rename: atomic on every local filesystem.
export async function writeFileAtomically(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, content);
    await rename(temp, file);
  } finally {
    await rm(temp, { force: true });
  }
}
