import { randomBytes, randomFillSync } from 'node:crypto';
import { open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { execa } from 'execa';
import { makeTempDir as makeSharedTempDir } from '../helpers/temp.ts';

export const MiB = 1024 * 1024;
export const FAT_START = 2048 * 512;
export const FAT_SIZE = 40 * MiB;
export const EXT_START = 83968 * 512;

export interface TestImage {
  path: string;
  size: number;
  fatFile: Buffer;
  extFile: Buffer;
}

// A temp dir removed when the test ends (the shared helper, under its flash name).
export async function makeTempDir(t: ExecutionContext): Promise<string> {
  return makeSharedTempDir(t, 'pikube-flash-');
}

// A sparse Pi-shaped image: MBR, a FAT32 boot partition and an ext4 root, each holding a random file.
export async function makeTestImage(dir: string, sizeMiB = 96): Promise<TestImage> {
  const image = path.join(dir, 'pi.img');
  const size = sizeMiB * MiB;
  await execa('truncate', ['-s', String(size), image]);
  await execa('sfdisk', ['-q', image], { input: 'label: dos\nstart=2048, size=81920, type=c, bootable\nstart=83968, type=83\n' });
  await execa('mkfs.vfat', ['-s', '1', '-F', '32', '-n', 'PIKUBE', '--offset', '2048', image, String(FAT_SIZE / 1024)]);
  await execa('mke2fs', ['-F', '-q', '-t', 'ext4', '-L', 'root', '-E', `offset=${EXT_START}`, image, `${(size - EXT_START) / 1024}k`]);
  const fatFile = randomBytes(3 * MiB + 123);
  const extFile = Buffer.concat([randomBytes(5 * MiB), Buffer.alloc(64 * 1024), randomBytes(777)]);
  await writeFile(path.join(dir, 'boot.bin'), fatFile);
  await writeFile(path.join(dir, 'root.bin'), extFile);
  await execa('mcopy', ['-i', `${image}@@${FAT_START}`, path.join(dir, 'boot.bin'), '::/boot.bin']);
  const debugfs = await execa('debugfs', ['-w', '-R', `write ${path.join(dir, 'root.bin')} root.bin`, `${image}?offset=${EXT_START}`], { all: true });
  if (!/Allocated inode/.test(debugfs.all ?? '')) throw new Error(`debugfs did not write the file: ${debugfs.all}`);
  return { path: image, size, fatFile, extFile };
}

// A loop device over a new file of `sizeMiB`, filled with `fill` (or random bytes, as a used card holds) so stale
// bytes show; detached when the test ends.
export async function makeLoopDevice(t: ExecutionContext, dir: string, sizeMiB: number, fill: number | 'random' = 0xa5): Promise<string> {
  const backing = path.join(dir, `loop-${sizeMiB}-${Date.now()}.bin`);
  const handle = await open(backing, 'w');
  try {
    const block = Buffer.alloc(MiB, fill === 'random' ? 0 : fill);
    for (let i = 0; i < sizeMiB; i++) {
      if (fill === 'random') randomFillSync(block);
      await handle.write(block, 0, MiB, i * MiB);
    }
  } finally {
    await handle.close();
  }
  const { stdout } = await execa('losetup', ['-f', '--show', backing]);
  const device = stdout.trim();
  t.teardown(async () => {
    await execa('losetup', ['-d', device], { reject: false });
  });
  return device;
}

// Turns every all-zero block of the image into a hole, as unpacking a base does, so a block map that follows the
// file's holes leaves out zeros the filesystems need.
export async function digHoles(image: string): Promise<void> {
  await execa('fallocate', ['--dig-holes', image]);
}

// The first byte of the FAT's data area, relative to the partition: everything before it (boot sector, reserved
// sectors, both FATs) is metadata. Read with mtools' minfo, not pikube's own parser.
export async function readFatDataStart(target: string): Promise<number> {
  const { stdout } = await execa('minfo', ['-i', `${target}@@${FAT_START}`, '::'], { env: { MTOOLS_SKIP_CHECK: '1' } });
  const field = (pattern: RegExp) => Number(pattern.exec(stdout)?.[1]);
  const sector = field(/^sector size: (\d+)/m);
  const reserved = field(/^reserved \(boot\) sectors: (\d+)/m);
  const fats = field(/^fats: (\d+)/m);
  const fatLength = field(/^Big fatlen=(\d+)/m) || field(/^sectors per fat: (\d+)/m);
  return (reserved + fats * fatLength) * sector;
}

// Reads `length` bytes at `offset` from a file or device.
export async function readBytes(file: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

// Both filesystems of a written target are clean and hold the test files: the FAT partition is copied out (fsck.fat has no offset option).
export async function checkFilesystems(t: ExecutionContext, target: string, image: TestImage, dir: string): Promise<void> {
  const fat = path.join(dir, `fat-${Date.now()}.img`);
  await writeFile(fat, await readBytes(target, FAT_START, FAT_SIZE));
  const fsckFat = await execa('fsck.fat', ['-n', fat], { reject: false, all: true });
  t.is(fsckFat.exitCode, 0, fsckFat.all);
  const copied = await execa('mtype', ['-i', fat, '::/boot.bin'], { encoding: 'buffer', stripFinalNewline: false });
  t.true(Buffer.from(copied.stdout).equals(image.fatFile), 'the FAT file reads back equal');
  const ext = path.join(dir, `ext-${Date.now()}.img`);
  await writeFile(ext, await readBytes(target, EXT_START, image.size - EXT_START));
  const fsckExt = await execa('e2fsck', ['-fn', ext], { reject: false, all: true });
  t.is(fsckExt.exitCode, 0, fsckExt.all);
  const dumped = path.join(dir, `root-${Date.now()}.bin`);
  await execa('debugfs', ['-R', `dump root.bin ${dumped}`, ext]);
  t.true((await readFile(dumped)).equals(image.extFile), 'the ext4 file reads back equal');
  await rm(fat, { force: true });
  await rm(ext, { force: true });
}
