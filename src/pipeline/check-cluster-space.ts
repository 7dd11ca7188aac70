import { stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UserError } from '../errors.ts';
import { formatBytes } from '../format-bytes.ts';

// Filesystems where `cp --reflink=auto` shares the copies' blocks, so cards cost next to no space.
const REFLINK_FILESYSTEMS = new Set([0x9123683e /* btrfs */, 0x58465342 /* XFS */]);

// Refuses a cluster whose cards cannot fit before any card is copied: each card but the last (which takes the shared
// image itself) needs as much space as the shared image holds, so a full disk is found in seconds, not after
// minutes of copying. Skipped where copies share blocks.
export async function checkClusterSpace(sharedImage: string, cards: number): Promise<void> {
  const folder = dirname(sharedImage);
  const fs = await statfs(folder);
  if (REFLINK_FILESYSTEMS.has(fs.type)) return;
  const needed = (await stat(sharedImage)).blocks * 512 * Math.max(0, cards - 1);
  const free = fs.bavail * fs.bsize;
  if (needed > free) {
    throw new UserError(`the ${cards} cards need about ${formatBytes(needed)} more beside the output, and its filesystem has ${formatBytes(free)} free`,
      'free some space, or choose -o DIR on a bigger disk: every card is written there');
  }
}
