import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { openGunzipStream } from '../acquire/gzip-stream.ts';
import { detectImageFormat, type ImageFormat } from '../acquire/image-format.ts';
import type { ZipEntry } from '../acquire/zip-entry.ts';
import { UserError } from '../errors.ts';
import { findPartitionTable } from '../tools/sfdisk.ts';
import { openXzDecompressStream, readXzUncompressedSize } from '../tools/xz.ts';

export interface ImageStream {
  format: ImageFormat;
  stream: Readable;
  // The uncompressed size when the container records it (.xz index, zip entry); always known for a raw image.
  size?: number;
}

// The uncompressed image size where it can be known before decompressing (not for .gz, which records it modulo 4 GiB).
export async function readImageSize(path: string): Promise<number | undefined> {
  const format = await detectImageFormat(path);
  if (format === 'raw') return (await stat(path)).size;
  if (format === 'xz') return readXzUncompressedSize(path);
  if (format === 'zip') return (await findZipImage(path)).entry.uncompressedSize;
  return undefined;
}

// Refuses a plain image cut short (a partition ends past the end of the file): unlike .xz, .gz and .zip, a raw
// image carries no checksum of its own, and its partition table is the one record of how long it must be.
export async function checkRawImageComplete(path: string): Promise<void> {
  if ((await detectImageFormat(path)) !== 'raw') return;
  const table = await findPartitionTable(path);
  if (!table) return;
  const { size } = await stat(path);
  const cut = table.partitions.find((p) => (p.start + p.size) * table.sectorSize > size);
  if (cut) {
    throw new UserError(`${path} is truncated: partition ${cut.number} ends at byte ${(cut.start + cut.size) * table.sectorSize}, and the file has ${size} bytes`,
      'the copy or download was cut short: get the image again (or build it again with `pikube build`)');
  }
}

// The image's bytes as one stream, decompressed on the fly (.gz, .xz, .zip) by acquire's checked readers; read it at once.
export async function openImageStream(path: string, signal?: AbortSignal): Promise<ImageStream> {
  const format = await detectImageFormat(path);
  if (format === 'raw') return { format, stream: createReadStream(path, { highWaterMark: 4 * 1024 * 1024, signal }), size: (await stat(path)).size };
  if (format === 'gzip') return { format, stream: openGunzipStream(path, signal) };
  if (format === 'xz') {
    const size = await readXzUncompressedSize(path);
    return { format, stream: openXzDecompressStream(path, signal), size };
  }
  const { entry, open } = await findZipImage(path);
  return { format, stream: await open(), size: entry.uncompressedSize };
}

// The zip reader (and unzipper, a noticeable part of the CLI's start-up time) is loaded only for .zip input; the
// image is the one .img/.raw/.bin entry, or the only file.
async function findZipImage(path: string): Promise<{ entry: ZipEntry; open: () => Promise<Readable> }> {
  const zip = await import('../acquire/zip-entry.ts');
  const files = await zip.listZipEntries(path);
  const images = files.filter((file) => /\.(img|raw|bin)$/i.test(file.name));
  const entry = images.length === 1 ? images[0] : files.length === 1 ? files[0] : undefined;
  if (!entry) {
    throw new UserError(`${path} holds ${files.length} files and pikube cannot tell which is the image`,
      `unzip it and flash the image file: ${files.slice(0, 5).map((file) => file.name).join(', ')}`);
  }
  return { entry, open: () => zip.openZipEntry(path, entry) };
}
