import { readdir, readFile, realpath, stat } from 'node:fs/promises';
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

// The devices a device-mapper (LVM, LUKS) or md RAID device is built on, as the kernel lists them in sysfs `slaves/`.
async function listSlaves(number: string): Promise<string[]> {
  const folder = `/sys/dev/block/${number}/slaves`;
  const names = await readdir(folder).catch(() => []);
  const numbers = await Promise.all(names.map((name) => readFile(`${folder}/${name}/dev`, 'utf8').then((text) => text.trim(), () => '')));
  return numbers.filter(Boolean);
}

interface Holding {
  // Whole disks (major:minor) that hold the data, each with how: the chain of devices from the file down to it.
  disks: Map<string, string>;
  // dev:inode of every loop device's backing file on the way down.
  backingFiles: Map<string, string>;
}

// Walks down from the device a file lives on: its whole disk, the disks under a device-mapper or md device, and for
// a loop device the disks of the filesystem its backing file is on (a filesystem inside an image on the card).
async function traceHolding(number: string, via: string, holding: Holding, depth = 0): Promise<void> {
  const disk = await wholeDiskOf(number);
  if (holding.disks.has(disk) || depth > 16) return;
  holding.disks.set(disk, via);
  for (const slave of await listSlaves(disk)) await traceHolding(slave, `${via}, built on device ${slave}`, holding, depth + 1);
  const backing = await loopBackingFile(disk);
  const info = backing ? await stat(backing, { bigint: true }).catch(() => undefined) : undefined;
  if (!backing || !info) return;
  holding.backingFiles.set(`${info.dev}:${info.ino}`, backing);
  await traceHolding(deviceNumber(info.dev), `${via}, a loop device over ${backing}`, holding, depth + 1);
}

// What writing the target overwrites: its whole disk and, for a device-mapper or md target, the disks under it. A loop
// target writes only its backing file (compared with the inputs by identity), not the disk that file lives on.
async function listWrittenDisks(number: string, disks = new Set<string>(), depth = 0): Promise<Set<string>> {
  const disk = await wholeDiskOf(number);
  if (disks.has(disk) || depth > 16) return disks;
  disks.add(disk);
  for (const slave of await listSlaves(disk)) await listWrittenDisks(slave, disks, depth + 1);
  return disks;
}

// Refuses a flash target that holds what is about to be read: the image itself (or its .bmap) under any name,
// a loop device over it, or a disk the image's filesystem lives on, directly, through a partition, LVM/device-mapper
// or md, or inside another image on a loop device. Writing there would destroy the image while it is being read;
// checked before the target is opened for writing.
export async function checkTargetHoldsNot(target: string, inputs: readonly NamedPath[]): Promise<void> {
  const info = await stat(target, { bigint: true }).catch(() => undefined);
  if (!info?.isBlockDevice()) {
    await checkOutputsAvoidInputs(inputs, [{ path: target, role: 'the target (--device)' }]);
    return;
  }
  const targetNumber = deviceNumber(info.rdev);
  const written = await listWrittenDisks(targetNumber);
  const backing = await loopBackingFile(targetNumber);
  const backingInfo = backing ? await stat(backing, { bigint: true }).catch(() => undefined) : undefined;
  for (const input of inputs) {
    const held = await stat(input.path, { bigint: true }).catch(() => undefined);
    if (!held) continue;
    if (backing && backingInfo && backingInfo.dev === held.dev && backingInfo.ino === held.ino) {
      throw new UserError(`${target} is a loop device over ${input.role} (${input.path}): writing it would overwrite the image itself`,
        'choose another --device; `losetup -l` shows what each loop device reads');
    }
    const holding: Holding = { disks: new Map(), backingFiles: new Map() };
    await traceHolding(deviceNumber(held.dev), '', holding);
    const disk = [...holding.disks.keys()].find((d) => written.has(d));
    if (disk !== undefined) {
      const via = holding.disks.get(disk) as string;
      throw new UserError(`${target} holds ${input.role} (${input.path} is on a filesystem of that device${via ? ` through${via.slice(1)}` : ''}): writing the card would destroy the image while it is read`,
        'copy the image to another disk first, or choose the card you meant with --device (`pikube drives` lists them)');
    }
    const shared = backingInfo ? holding.backingFiles.get(`${backingInfo.dev}:${backingInfo.ino}`) : undefined;
    if (shared) {
      throw new UserError(`${target} is a loop device over ${shared}, which holds the filesystem ${input.role} (${input.path}) is on: writing it would destroy the image while it is read`,
        'choose another --device; `losetup -l` shows what each loop device reads');
    }
  }
}
