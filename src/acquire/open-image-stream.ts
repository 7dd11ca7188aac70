import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { copySparse } from '../tools/cp.ts';
import { decompressXzToFile, openXzDecompressStream, readXzUncompressedSize } from '../tools/xz.ts';
import { openGunzipStream } from './gzip-stream.ts';
import { detectImageFormat, type ImageFormat } from './image-format.ts';

// An image file as build and flash both see it: what it is packed in, how big it is unpacked, and its bytes.
export interface ImageSource {
  path: string;
  format: ImageFormat;
  // The uncompressed size when the container records it (.xz index, zip entry); always known for a raw image,
  // never for .gz (which records it modulo 4 GiB). Asked for only when needed: reading an .xz index runs xz.
  readSize(): Promise<number | undefined>;
  // The zip entry that holds the image.
  entry?: string;
  // The uncompressed bytes as one stream, through a checked reader: a damaged .zip, .xz or .gz fails it with the
  // one damagedArchive UserError naming the file, so no reader takes a damaged archive for an image.
  open(signal?: AbortSignal): Promise<Readable>;
  // A faster way to a file than the stream where a tool has one: cp copies a raw image skipping its holes
  // (SEEK_DATA/SEEK_HOLE, which Node cannot), xz decompresses multi-threaded straight into the file, leaving holes.
  copyToFile?: (destPath: string, signal?: AbortSignal) => Promise<void>;
}

// An open image stream with what was learnt opening it.
export interface ImageStream {
  format: ImageFormat;
  stream: Readable;
  size?: number;
  entry?: string;
}

// The one dispatch on an image's packing (by its first bytes), for unpacking a base and for flashing alike;
// `entry` names the zip entry when the archive holds several. The zip reader (and unzipper, a noticeable part of
// the CLI's start-up time) is loaded only for .zip input.
export async function inspectImage(path: string, entry?: string): Promise<ImageSource> {
  const format = await detectImageFormat(path);
  if (format === 'raw') {
    const { size } = await stat(path);
    return {
      path, format, readSize: async () => size,
      open: async (signal) => createReadStream(path, { highWaterMark: 4 * 1024 * 1024, ...(signal ? { signal } : {}) }),
      copyToFile: (destPath, signal) => copySparse(path, destPath, signal),
    };
  }
  if (format === 'gzip') return { path, format, readSize: async () => undefined, open: async (signal) => openGunzipStream(path, signal) };
  if (format === 'xz') {
    return {
      path, format, readSize: () => readXzUncompressedSize(path),
      open: async (signal) => openXzDecompressStream(path, signal),
      copyToFile: (destPath, signal) => decompressXzToFile(path, destPath, signal),
    };
  }
  const zip = await import('./zip-entry.ts');
  const chosen = zip.chooseZipEntry(await zip.listZipEntries(path), path, entry);
  return { path, format, entry: chosen.name, readSize: async () => chosen.uncompressedSize, open: async () => zip.openZipEntry(path, chosen) };
}

// The image's bytes as one stream, decompressed on the fly; read it at once.
export async function openImageStream(path: string, signal?: AbortSignal, entry?: string): Promise<ImageStream> {
  const source = await inspectImage(path, entry);
  const size = await source.readSize();
  return { format: source.format, stream: await source.open(signal), ...(size === undefined ? {} : { size }), ...(source.entry ? { entry: source.entry } : {}) };
}

// The uncompressed image size where it can be known before decompressing.
export async function readImageSize(path: string): Promise<number | undefined> {
  return (await inspectImage(path)).readSize();
}
