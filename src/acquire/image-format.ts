import { open } from 'node:fs/promises';
import type { ArchiveFormat } from '../damaged-archive.ts';

// What an image file is packed in, decided by its first bytes (names lie: `latest` redirects, renamed files).
export type ImageFormat = ArchiveFormat | 'raw';

// Reads the magic number: PK\3\4 (or an empty zip's PK\5\6), FD 37 7A 58 5A 00, 1F 8B; anything else is a raw image.
export async function detectImageFormat(file: string): Promise<ImageFormat> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(6);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return formatOfMagic(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

// The format for a file's first bytes.
export function formatOfMagic(head: Buffer): ImageFormat {
  if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))) return 'zip';
  if (head.length >= 6 && head.equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  return 'raw';
}
