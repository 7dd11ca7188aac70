import { open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InternalError, InterruptedError, UserError } from '../errors.ts';
import { copySparse } from '../tools/cp.ts';
import { decompressXzToFile } from '../tools/xz.ts';
import { openGunzipStream } from './gzip-stream.ts';
import { detectImageFormat, type ImageFormat } from './image-format.ts';
import { SparseWriter } from './sparse-writer.ts';
import { chooseZipEntry, listZipEntries, openZipEntry } from './zip-entry.ts';

// Which zip entry, and the signal that stops the unpacking.
export interface UnpackImageOptions {
  // The zip entry to use when the archive holds several.
  entry?: string;
  signal?: AbortSignal;
}

// What was written, for the build log and record.
export interface UnpackedImage {
  // Size of the image written.
  bytes: number;
  format: ImageFormat;
  // The zip entry that was used.
  entry?: string;
}

// Unpacks (or copies) a base image into destPath in one streaming pass, whatever it is packed in,
// leaving zero blocks as holes; on any failure destPath is removed.
export async function unpackImage(archivePath: string, destPath: string, options: UnpackImageOptions = {}): Promise<UnpackedImage> {
  if (path.resolve(archivePath) === path.resolve(destPath)) throw new InternalError(`unpackImage: source and destination are both ${destPath}`);
  const format = await detectImageFormat(archivePath).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new UserError(`base image ${archivePath} does not exist`, 'check the path in the recipe\'s `base:`');
    throw error;
  });
  try {
    if (format === 'xz') return { bytes: await writeXz(archivePath, destPath, options.signal), format };
    if (format === 'zip') {
      const entry = chooseZipEntry(await listZipEntries(archivePath), archivePath, options.entry);
      const bytes = await writeStream(await openZipEntry(archivePath, entry), destPath, options.signal);
      return { bytes, format, entry: entry.name };
    }
    if (format === 'gzip') {
      return { bytes: await writeStream(openGunzipStream(archivePath), destPath, options.signal), format };
    }
    // A plain image is copied by cp, which finds holes with SEEK_DATA/SEEK_HOLE (Node cannot) and skips them.
    await copySparse(archivePath, destPath, options.signal);
    const bytes = (await stat(destPath)).size;
    if (bytes === 0) throw new UserError(`base image ${archivePath} is empty`, 'check the path in the recipe\'s `base:`');
    return { bytes, format };
  } catch (error) {
    await rm(destPath, { force: true });
    if (options.signal?.aborted) throw new InterruptedError();
    throw error;
  }
}

async function writeStream(source: Readable, destPath: string, signal?: AbortSignal): Promise<number> {
  const handle = await open(destPath, 'w');
  try {
    const sparse = (await handle.stat()).isFile();
    const writer = new SparseWriter(handle, { sparse });
    await pipeline(source, writer, { signal });
    return writer.bytes;
  } finally {
    await handle.close();
  }
}

async function writeXz(archivePath: string, destPath: string, signal?: AbortSignal): Promise<number> {
  await decompressXzToFile(archivePath, destPath, signal);
  return (await stat(destPath)).size;
}
