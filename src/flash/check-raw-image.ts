import { stat } from 'node:fs/promises';
import { detectImageFormat } from '../acquire/image-format.ts';
import { UserError } from '../errors.ts';
import { findPartitionTable } from '../tools/sfdisk.ts';

// Refuses a plain image cut short (a partition ends past the end of the file): unlike .xz, .gz and .zip, a raw
// image carries no checksum of its own, and its partition table is the one record of how long it must be.
export async function checkRawImageComplete(path: string): Promise<void> {
  if ((await detectImageFormat(path)) !== 'raw') return;
  const table = await findPartitionTable(path);
  if (!table) return;
  const { size } = await stat(path);
  const cut = table.partitions.find((p) => (p.start + p.size) * table.sectorSize > size);
  if (cut) {
    throw new UserError(`${path} is truncated: partition ${cut.number} ends at byte ${(cut.start + cut.size) * table.sectorSize}, and the file has ${size} bytes`,
      'the copy or download was cut short: get the image again (or build it again with `pikube build`)');
  }
}
