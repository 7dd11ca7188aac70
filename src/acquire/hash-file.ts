import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { InterruptedError } from '../errors.ts';

const CHUNK = 1024 * 1024;

// sha256 of a whole file (cache checks, local inputs, digests of local files).
export async function hashFile(file: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  const size = await feedHash(hash, file, 0, Number.POSITIVE_INFINITY, signal);
  return { sha256: hash.digest('hex'), size };
}

// sha256 (hex) of the bytes start..end of a file, e.g. one block-map range of an image.
export async function hashFileRange(file: string, start: number, end: number, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await feedHash(hash, file, start, end, signal);
  return hash.digest('hex');
}

// A running sha256 of a file's first `length` bytes (all of it by default; none when the file does not exist yet),
// still open for more: a resumed download hashes what it already has, then goes on with what arrives.
export async function hashFilePrefix(file: string, length = Number.POSITIVE_INFINITY, signal?: AbortSignal): Promise<{ hash: Hash; size: number }> {
  const hash = createHash('sha256');
  try {
    return { hash, size: await feedHash(hash, file, 0, length, signal) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { hash, size: 0 };
    throw error;
  }
}

// Reads start..end (or to the end of the file) in 1 MiB pieces into one reused buffer, so hashing gigabytes
// leaves no garbage behind; returns the bytes hashed.
async function feedHash(hash: Hash, file: string, start: number, end: number, signal?: AbortSignal): Promise<number> {
  const buffer = Buffer.allocUnsafe(CHUNK);
  const handle = await open(file, 'r');
  let position = start;
  try {
    while (position < end) {
      if (signal?.aborted) throw new InterruptedError();
      const { bytesRead } = await handle.read(buffer, 0, Math.min(CHUNK, end - position), position);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return position - start;
}
