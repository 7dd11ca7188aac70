
import { dirname, join } from 'node:path';
import { ToolError } from '../errors.ts';
import { copyRangeSparse } from '../tools/dd.ts';
import { checkExt } from '../tools/e2fsck.ts';
import { checkFat } from '../tools/fsck-fat.ts';
import type { ImageLayout } from './read-facts.ts';
import { makeTempFolder, removeTempFolder } from '../temp-folder.ts';

// Both filesystems must check clean after a build; a dirty one is never renamed into place.
export async function checkImageFilesystems(image: string, layout: ImageLayout, signal?: AbortSignal): Promise<void> {
  const sector = layout.table.sectorSize;
  const ext = await checkExt({ image, offset: layout.root.start * sector });
  if (!ext.clean) throw new ToolError({ command: 'e2fsck -fn', message: `the root filesystem is not clean after the build:\n${ext.output.trim()}` });
  const dir = await makeTempFolder(dirname(image), '.pikube-fsck-');
  try {
    const part = join(dir, 'boot.vfat');
    await copyRangeSparse(image, { offset: layout.boot.start * sector, length: layout.boot.size * sector }, part, 0, signal);
    const fat = await checkFat(part);
    if (!fat.clean) throw new ToolError({ command: 'fsck.fat -n', message: `the boot filesystem is not clean after the build:\n${fat.output.trim()}` });
  } finally {
    await removeTempFolder(dir);
  }
}
