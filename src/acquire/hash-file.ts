import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { InterruptedError } from '../errors.ts';

const CHUNK = 1024 * 1024;

// sha256 of a file, read in 1 MiB pieces into one reused buffer, so hashing gigabytes leaves no garbage behind.
export async function hashFile(file: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK);
  const handle = await open(file, 'r');
  let size = 0;
  try {
    for (;;) {
      if (signal?.aborted) throw new InterruptedError();
      const { bytesRead } = await handle.read(buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest('hex'), size };
}
