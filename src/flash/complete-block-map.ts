import { detectImageFormat } from '../acquire/image-format.ts';
import type { ByteRange } from '../image/fat-free-space.ts';
import type { BlockMap, MappedRange } from './block-map.ts';
import { listNeededBlocks } from './list-needed-blocks.ts';

export interface CompletedMap {
  map: BlockMap;
  // What the given map left out that the image's filesystems need (their metadata, zeros, used blocks).
  added: ByteRange[];
  addedBytes: number;
}

// A map made from the file's holes (`bmaptool create`) leaves out zeros the filesystems need; a card that held data
// would keep old bytes there. For a raw image the blocks the filesystems need are added to the map (without a
// checksum: the writer hashes them as it writes and reads them back), so such a map stays usable and safe.
// Compressed images cannot be read at an offset, and pikube's own filesystem-aware maps need nothing added, so those
// maps are taken as they are.
export async function completeBlockMap(imagePath: string, map: BlockMap): Promise<CompletedMap> {
  if (map.fromFilesystems || (await detectImageFormat(imagePath)) !== 'raw') return { map, added: [], addedBytes: 0 };
  const needed = (await listNeededBlocks(imagePath, map.blockSize)).map(([first, last]) => ({
    start: first * map.blockSize, end: Math.min((last + 1) * map.blockSize, map.imageSize),
  }));
  const added = subtractRanges(needed, map.ranges);
  if (added.length === 0) return { map, added, addedBytes: 0 };
  const ranges: MappedRange[] = [...map.ranges, ...added].toSorted((a, b) => a.start - b.start);
  return { map: { ...map, ranges }, added, addedBytes: added.reduce((sum, r) => sum + r.end - r.start, 0) };
}

// The parts of `wanted` that no range of `have` covers; both sorted and non-overlapping.
export function subtractRanges(wanted: readonly ByteRange[], have: readonly ByteRange[]): ByteRange[] {
  const missing: ByteRange[] = [];
  let h = 0;
  for (const range of wanted) {
    let start = range.start;
    while (start < range.end) {
      while (h < have.length && (have[h] as ByteRange).end <= start) h++;
      const next = have[h];
      if (!next || next.start >= range.end) {
        missing.push({ start, end: range.end });
        break;
      }
      if (next.start > start) missing.push({ start, end: next.start });
      start = Math.max(start, next.end);
    }
  }
  return missing;
}
