import { open } from 'node:fs/promises';

export type FilesystemKind = 'ext' | 'fat' | 'unknown';

// Looks at the superblock magic itself: partition type codes lie often enough on hand-made images.
export async function detectFilesystem(image: string, offset: number): Promise<FilesystemKind> {
  const handle = await open(image, 'r');
  try {
    const buffer = Buffer.alloc(2048);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
    if (bytesRead < 1082) return 'unknown';
    if (buffer.readUInt16LE(1080) === 0xef53) return 'ext';
    const fat32 = buffer.toString('latin1', 82, 87);
    const fat16 = buffer.toString('latin1', 54, 59);
    if ((fat32 === 'FAT32' || fat16.startsWith('FAT')) && buffer.readUInt16LE(510) === 0xaa55) return 'fat';
    return 'unknown';
  } finally {
    await handle.close();
  }
}
