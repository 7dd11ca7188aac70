import { readFile, realpath, stat } from 'node:fs/promises';
import { UserError } from '../errors.ts';
import { checkOutputsAvoidInputs, type NamedPath } from '../same-file.ts';

// Linux's dev_t split into major:minor (glibc's encoding, the one stat returns), as /sys/dev/block names devices.
function deviceNumber(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

// The whole disk a block device belongs to: itself, or for a partition (its sysfs folder has a `partition`
// file) the disk whose folder holds it.
async function wholeDiskOf(number: string): Promise<string> {
  const folder = await realpath(`/sys/dev/block/${number}`).catch(() => undefined);
  if (!folder) return number;
  const isPartition = await stat(`${folder}/partition`).then(() => true, () => false);
  if (!isPartition) return number;
  return (await readFile(`${folder}/../dev`, 'utf8').catch(() => number)).trim();
}

// The file a loop device reads and writes, if `number` is one.
async function loopBackingFile(number: string): Promise<string | undefined> {
  const text = await readFile(`/sys/dev/block/${number}/loop/backing_file`, 'utf8').catch(() => undefined);
  return text?.trim() || undefined;
}

// Refuses a flash target that holds what is about to be read: the image itself (or its .bmap) under any name,
// a loop device over it, or the disk (or a partition of the disk) whose filesystem the image lives on. Writing
// there would destroy the image while it is being read; checked before the target is opened for writing.
export async function checkTargetHoldsNot(target: string, inputs: readonly NamedPath[]): Promise<void> {
  const info = await stat(target, { bigint: true }).catch(() => undefined);
  if (!info?.isBlockDevice()) {
    await checkOutputsAvoidInputs(inputs, [{ path: target, role: 'the target (--device)' }]);
    return;
  }
  const targetNumber = deviceNumber(info.rdev);
  const targetDisk = await wholeDiskOf(targetNumber);
  const backing = await loopBackingFile(targetNumber);
  for (const input of inputs) {
    const held = await stat(input.path, { bigint: true }).catch(() => undefined);
    if (!held) continue;
    const number = deviceNumber(held.dev);
    if (number === targetNumber || (await wholeDiskOf(number)) === targetDisk) {
      throw new UserError(`${target} holds ${input.role} (${input.path} is on a filesystem of that device): writing the card would destroy the image while it is read`,
        'copy the image to another disk first, or choose the card you meant with --device (`pikube drives` lists them)');
    }
    if (backing) {
      const backingInfo = await stat(backing, { bigint: true }).catch(() => undefined);
      if (backingInfo && backingInfo.dev === held.dev && backingInfo.ino === held.ino) {
        throw new UserError(`${target} is a loop device over ${input.role} (${input.path}): writing it would overwrite the image itself`,
          'choose another --device; `losetup -l` shows what each loop device reads');
      }
    }
  }
}
