import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { File as ZipFile } from 'unzipper';
import { UserError } from '../errors.ts';
import { openXzDecompressStream, readXzUncompressedSize } from '../tools/xz.ts';

export type ImageFormat = 'raw' | 'gzip' | 'xz' | 'zip';

export interface ImageStream {
  format: ImageFormat;
  stream: Readable;
  // The uncompressed size when the container records it (.xz index, zip entry); always known for a raw image.
  size?: number;
}

// Tells a raw image from a compressed one by its first bytes, not by its name.
export async function detectImageFormat(path: string): Promise<ImageFormat> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(6), 0, 6, 0);
    const head = buffer.subarray(0, bytesRead);
    if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
    if (head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
    if (head.subarray(0, 4).equals(Buffer.from('PK\u0003\u0004', 'latin1'))) return 'zip';
    return 'raw';
  } finally {
    await handle.close();
  }
}

// The uncompressed image size where it can be known before decompressing (not for .gz, which records it modulo 4 GiB).
export async function readImageSize(path: string): Promise<number | undefined> {
  const format = await detectImageFormat(path);
  if (format === 'raw') return (await stat(path)).size;
  if (format === 'xz') return readXzUncompressedSize(path);
  if (format === 'zip') return (await findZipImage(path)).uncompressedSize;
  return undefined;
}

// The image's bytes as one stream, decompressed on the fly (.gz, .xz, .zip): the one place to swap decoders; read it at once.
export async function openImageStream(path: string, signal?: AbortSignal): Promise<ImageStream> {
  const format = await detectImageFormat(path);
  if (format === 'raw') return { format, stream: createReadStream(path, { highWaterMark: 4 * 1024 * 1024, signal }), size: (await stat(path)).size };
  if (format === 'gzip') return { format, stream: createReadStream(path, { signal }).pipe(createGunzip({ chunkSize: 1024 * 1024 })) };
  if (format === 'xz') {
    const size = await readXzUncompressedSize(path);
    return { format, stream: openXzDecompressStream(path, signal), size };
  }
  const entry = await findZipImage(path);
  return { format, stream: entry.stream(), size: entry.uncompressedSize };
}

// unzipper is loaded only for .zip input: it is a noticeable part of the CLI's start-up time.
async function findZipImage(path: string): Promise<ZipFile> {
  const { default: unzipper } = await import('unzipper');
  const directory = await unzipper.Open.file(path);
  const files = directory.files.filter((file) => file.type === 'File');
  const images = files.filter((file) => /\.(img|raw|bin)$/i.test(file.path));
  const entry = images.length === 1 ? images[0] : files.length === 1 ? files[0] : undefined;
  if (!entry) {
    throw new UserError(`${path} holds ${files.length} files and pikube cannot tell which is the image`,
      `unzip it and flash the image file: ${files.slice(0, 5).map((file) => file.path).join(', ')}`);
  }
  return entry;
}
