import { throwIfInterrupted } from '../interrupt.ts';
import { log } from '../log.ts';
import type { Plan } from '../plan/types.ts';
import type { ExtBackend } from './backend.ts';
import { checkImageFilesystems } from './check-image.ts';
import { growRoot } from './grow-root.ts';
import { readLayout } from './read-facts.ts';
import { stageContents } from './staging.ts';
import { writeFatEntries } from './write-fat.ts';

// Applies a plan to a working copy of the base: partition growth, boot entries through mtools, root entries
// through the chosen ext4 backend, then both filesystems must check clean.
export async function applyPlan(plan: Plan, image: string, backend: ExtBackend, signal: AbortSignal): Promise<void> {
  let layout = await readLayout(image);
  if (plan.growth) {
    log.step(`growing the root partition to ${(plan.growth.toBytes / 2 ** 20).toFixed(0)} MiB (${plan.growth.reason})`);
    layout = await growRoot(image, plan.growth, backend, signal);
  }
  throwIfInterrupted(signal);
  const sector = layout.table.sectorSize;
  await using staging = await stageContents(plan.entries);
  const boot = plan.entries.filter((e) => e.partition === 'boot');
  const root = plan.entries.filter((e) => e.partition === 'root');
  log.step(`writing ${boot.length} boot entries and ${root.length} root entries (${backend.name} backend)`);
  await writeFatEntries({ image, offset: layout.boot.start * sector }, boot, staging.hostPathOf);
  throwIfInterrupted(signal);
  await backend.write({ image, offset: layout.root.start * sector, size: layout.root.size * sector }, root, staging.hostPathOf, signal);
  throwIfInterrupted(signal);
  log.step('checking both filesystems');
  await checkImageFilesystems(image, layout, signal);
}
