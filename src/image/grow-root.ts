import { truncate } from 'node:fs/promises';
import { InternalError } from '../errors.ts';
import type { Growth } from '../plan/types.ts';
import { growPartitionToEnd } from '../tools/sfdisk.ts';
import type { ExtBackend } from './backend.ts';
import { readLayout, type ImageLayout } from './read-facts.ts';

// Extends the image file, grows the last partition to its end and the filesystem to fill it,
// keeping the disk identifier and PARTUUIDs that cmdline.txt and fstab name.
export async function growRoot(image: string, growth: Growth, backend: ExtBackend, signal: AbortSignal): Promise<ImageLayout> {
  const before = await readLayout(image);
  await truncate(image, growth.imageBytes);
  await growPartitionToEnd(image, growth.partition, before.table.label);
  const after = await readLayout(image);
  const changed = after.partitions.filter((p) => before.partitions.find((q) => q.number === p.number)?.partuuid !== p.partuuid);
  if (after.table.id !== before.table.id || changed.length > 0) {
    throw new InternalError(`growing partition ${growth.partition} changed the disk identifier or a PARTUUID (${before.table.id} -> ${after.table.id})`);
  }
  const sector = after.table.sectorSize;
  await backend.grow({ image, offset: after.root.start * sector, size: after.root.size * sector }, signal);
  return after;
}
