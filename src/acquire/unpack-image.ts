import { open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InternalError, InterruptedError, UserError } from '../errors.ts';
import type { ImageFormat } from './image-format.ts';
import { inspectImage } from './open-image-stream.ts';
import { SparseWriter } from './sparse-writer.ts';

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
  const image = await inspectImage(archivePath, options.entry).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new UserError(`base image ${archivePath} does not exist`, 'check the path in the recipe\'s `base:`');
    throw error;
  });
  const { format } = image;
  try {
    let bytes: number;
    if (image.copyToFile) {
      await image.copyToFile(destPath, options.signal);
      bytes = (await stat(destPath)).size;
    } else {
      bytes = await writeStream(await image.open(options.signal), destPath, options.signal);
    }
    if (bytes === 0) throw new UserError(`base image ${archivePath} is empty`, 'check the path in the recipe\'s `base:`');
    return { bytes, format, ...(image.entry ? { entry: image.entry } : {}) };
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
