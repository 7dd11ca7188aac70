import { UserError } from '../errors.ts';
import type { PlanEntry } from '../plan/types.ts';
import { copyToFat, listFat, makeFatDirectories, type FatVolume } from '../tools/mtools.ts';

// Writes boot-partition entries with mtools (vfat may not even be mountable): missing folders first, then files.
export async function writeFatEntries(volume: FatVolume, entries: readonly PlanEntry[], hostPathOf: (entry: PlanEntry) => string): Promise<void> {
  if (entries.length === 0) return;
  const listing = await listFat(volume);
  const missing = entries
    .filter((e) => e.type === 'directory' && !listing.directories.has(e.path.toLowerCase()))
    .map((e) => e.path);
  await makeFatDirectories(volume, missing);
  for (const entry of entries) {
    if (entry.type !== 'file') continue;
    if (listing.directories.has(entry.path.toLowerCase())) {
      throw new UserError(`${entry.origin}: ${entry.path} is a folder on the boot partition of the base`, 'choose another file name');
    }
    await copyToFat(volume, hostPathOf(entry), entry.path);
  }
}
