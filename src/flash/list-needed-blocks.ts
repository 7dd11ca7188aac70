import { open, stat, type FileHandle } from 'node:fs/promises';
import { UserError } from '../errors.ts';
import { detectFilesystem, type FilesystemKind } from '../image/detect-filesystem.ts';
import { listFatFreeRanges, type ByteRange } from '../image/fat-free-space.ts';
import { readExtFreeBlocks } from '../tools/dumpe2fs.ts';
import { readPartitionTable, type PartitionTable } from '../tools/sfdisk.ts';

// MBR extended-partition containers: their space is the logical partitions inside plus unpartitioned gaps.
const CONTAINER_TYPES = new Set(['5', 'f', '85']);

// Block ranges [first, last] a card must receive for it to read back as the image: every block, zeros included,
// except those lying wholly inside space a partition's own filesystem calls free (FAT: free clusters per the FAT;
// ext2/3/4: free blocks per the block bitmaps). Partition tables, unpartitioned space, unknown filesystems and all
// filesystem metadata are kept, so a card that held data before holds none of it where the image says something.
// Only the partition table, boot sectors, FATs and ext bitmaps are read: never the image's data.
export async function listNeededBlocks(imagePath: string, blockSize: number): Promise<[number, number][]> {
  const { size } = await stat(imagePath);
  const blocksCount = Math.ceil(size / blockSize);
  const free = await findFreeSpace(imagePath, size);
  const blocks: [number, number][] = [];
  let next = 0;
  for (const range of free) {
    const first = Math.ceil(range.start / blockSize);
    // A range reaching the image's end frees its last, partial block too.
    const end = range.end >= size ? blocksCount : Math.floor(range.end / blockSize);
    if (end <= first) continue;
    if (first > next) blocks.push([next, first - 1]);
    next = Math.max(next, end);
  }
  if (next < blocksCount) blocks.push([next, blocksCount - 1]);
  return blocks;
}

// The free space of every FAT and ext filesystem in the image's partitions, as byte ranges in order; none for an
// image without a partition table, for partitions that overlap, or for a filesystem whose metadata cannot be read.
async function findFreeSpace(imagePath: string, size: number): Promise<ByteRange[]> {
  const table = await readPartitionTable(imagePath).catch((error: unknown) => {
    if (error instanceof UserError) return undefined;
    throw error;
  });
  if (!table) return [];
  const parts = listFilesystemPartitions(table, size);
  const handle = await open(imagePath, 'r');
  let ranges: ByteRange[];
  try {
    // Each partition's filesystem is read at once (dumpe2fs runs while the FAT is read).
    ranges = (await Promise.all(parts.map(async (part) => {
      const free = await listPartitionFree(handle, imagePath, await detectFilesystem(imagePath, part.start), part);
      return (free ?? []).filter((r) => r.end > r.start && r.start >= part.start && r.end <= part.end);
    }))).flat();
  } finally {
    await handle.close();
  }
  return ranges.toSorted((a, b) => a.start - b.start);
}

// A FAT's free clusters or an ext filesystem's free blocks; undefined for another filesystem, or one that does not
// fit its partition.
async function listPartitionFree(handle: FileHandle, imagePath: string, kind: FilesystemKind, part: { start: number; end: number }): Promise<ByteRange[] | undefined> {
  if (kind === 'fat') return listFatFreeRanges(handle, part.start, part.end - part.start);
  if (kind !== 'ext') return undefined;
  const ext = await readExtFreeBlocks({ image: imagePath, offset: part.start });
  if (!ext || ext.blockCount * ext.blockSize > part.end - part.start) return undefined;
  return ext.free.map(([first, last]) => ({ start: part.start + first * ext.blockSize, end: part.start + (last + 1) * ext.blockSize }));
}

// Partitions that may hold a filesystem, as byte ranges inside the file; overlapping ones are left out (their
// filesystems could claim each other's blocks), so their space is mapped whole.
function listFilesystemPartitions(table: PartitionTable, size: number): { start: number; end: number }[] {
  const parts = table.partitions
    .filter((p) => p.size > 0 && !(table.label === 'dos' && CONTAINER_TYPES.has(p.type.toLowerCase())))
    .map((p) => ({ start: p.start * table.sectorSize, end: Math.min((p.start + p.size) * table.sectorSize, size) }))
    .filter((p) => p.end > p.start)
    .toSorted((a, b) => a.start - b.start);
  return parts.filter((p, i) => !parts.some((other, j) => j !== i && other.start < p.end && p.start < other.end));
}
