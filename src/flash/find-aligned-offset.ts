import type { FileHandle } from 'node:fs/promises';

// O_DIRECT needs buffer addresses, offsets and lengths aligned to the device's block size; 4096 covers 512e and 4Kn cards.
export const ALIGN = 4096;

// Node cannot ask for an aligned buffer: try O_DIRECT reads of the device's first block at each offset until one is accepted.
export async function findAlignedOffset(handle: FileHandle, slab: Buffer): Promise<number | undefined> {
  for (let offset = 0; offset < ALIGN; offset += 8) {
    const ok = await handle.read(slab, offset, ALIGN, 0).then(() => true, () => false);
    if (ok) return offset;
  }
  return undefined;
}
