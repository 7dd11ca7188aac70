import { createReadStream } from 'node:fs';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { damagedArchive } from '../damaged-archive.ts';

// A .gz image's uncompressed bytes; a truncated or damaged file fails the stream with a UserError that says so
// (zlib's own Z_BUF_ERROR would read as a bug), for unpacking a base and for flashing alike.
export function openGunzipStream(archivePath: string, signal?: AbortSignal): Readable {
  const raw = createReadStream(archivePath, { highWaterMark: 1024 * 1024, ...(signal ? { signal } : {}) });
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  const out = new PassThrough();
  // Registered before pipeline's own handlers, so the reader sees this error rather than zlib's.
  gunzip.on('error', (error: Error) => {
    if (isZlibError(error)) out.destroy(damagedArchive(archivePath, 'gzip', error.message, error));
  });
  pipeline(raw, gunzip, out, () => undefined);
  return out;
}

// zlib's failures carry a Z_* code (Z_DATA_ERROR, Z_BUF_ERROR): the data, not the machine, is at fault.
export function isZlibError(error: unknown): boolean {
  return /^Z_/.test(String((error as { code?: unknown }).code));
}
