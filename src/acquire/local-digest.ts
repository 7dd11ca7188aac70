import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomically } from './cache-store.ts';
import { hashFile } from './hash-file.ts';

// The sha256 of a local base image, remembered in the cache by the file's identity (device, inode, size,
// modification and change times), so rebuilding from the same multi-gigabyte file does not read it twice.
export async function digestLocalFile(file: string, cacheDir: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const info = await stat(file, { bigint: true });
  const identity = [await realpath(file), info.dev, info.ino, info.size, info.mtimeNs, info.ctimeNs].join('\0');
  const record = path.join(cacheDir, 'local-digests', `${createHash('sha256').update(identity).digest('hex')}.json`);
  const known = await readFile(record, 'utf8').then((text) => JSON.parse(text) as { sha256: string; size: number }).catch(() => undefined);
  if (known && /^[0-9a-f]{64}$/.test(known.sha256) && known.size === Number(info.size)) return known;
  const digest = await hashFile(file, signal);
  await writeFileAtomically(record, JSON.stringify({ ...digest, path: file }));
  return digest;
}
