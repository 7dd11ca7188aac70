import { UserError } from '../errors.ts';
import type { Growth, ImageFacts, PlanEntry } from './types.ts';
import { formatMiB } from '../format-bytes.ts';

const MiB = 1024 * 1024;

// Bytes an entry takes on disk: data rounded up to blocks, plus an inode and directory slot's worth.
export function entryFootprint(entry: PlanEntry, blockSize: number): number {
  const size = entry.type === 'file' ? (entry.content.kind === 'text' ? Buffer.byteLength(entry.content.text) : entry.content.size) : 0;
  return Math.ceil(size / blockSize) * blockSize + blockSize;
}

// Decides whether the root partition must grow: payload plus a margin (64 MiB or 10%) must fit in its free space.
// The boot partition is FAT and never grown: a payload too big for it is the user's to shrink.
export function planGrowth(entries: readonly PlanEntry[], facts: ImageFacts): { growth: Growth | null; payload: { boot: number; root: number } } {
  const payload = { boot: 0, root: 0 };
  for (const entry of entries) payload[entry.partition] += entryFootprint(entry, entry.partition === 'root' ? facts.root.blockSize : 4096);
  if (payload.boot > facts.boot.freeBytes) {
    throw new UserError(`the boot files need ${formatMiB(payload.boot)} but the boot partition has ${formatMiB(facts.boot.freeBytes)} free`,
      'move large files to the root partition (partition: root) or the overlay\'s root tree');
  }
  const needed = payload.root + Math.max(64 * MiB, Math.ceil(payload.root / 10));
  if (needed <= facts.root.freeBytes) return { growth: null, payload };
  if (!facts.root.isLast) {
    throw new UserError(`the root files need ${formatMiB(needed)} with margin but the root partition has ${formatMiB(facts.root.freeBytes)} free, and it cannot grow because it is not the last partition`,
      'use a base whose root partition is last (every Raspberry Pi OS and Hypriot image is), or put fewer files in');
  }
  const sectorSize = facts.table.sectorSize;
  const extraBytes = Math.ceil((needed - facts.root.freeBytes) / (4 * MiB)) * 4 * MiB;
  const fromBytes = facts.root.size * sectorSize;
  const toBytes = fromBytes + extraBytes;
  const endBytes = facts.root.start * sectorSize + toBytes;
  const gptBackup = facts.table.label === 'gpt' ? 34 * sectorSize : 0;
  return {
    growth: {
      partition: facts.root.number,
      fromBytes,
      toBytes,
      imageBytes: Math.max(facts.size, endBytes + gptBackup),
      reason: `root files need ${formatMiB(needed)} with margin, ${formatMiB(facts.root.freeBytes)} free`,
    },
    payload,
  };
}

