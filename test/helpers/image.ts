import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execa } from 'execa';
import { makeDemoBase, type DemoBaseOptions } from '../../examples/make-demo-base.ts';
import { readLayout } from '../../src/image/read-facts.ts';
import { dumpExtFile, statExtPaths, type ExtInode } from '../../src/tools/debugfs.ts';
import { makeTempDir } from './temp.ts';

// A Hypriot-shaped (or, with options, Raspberry Pi OS-shaped) base made fresh for one test.
export async function makeBase(t: ExecutionContext, options: Omit<DemoBaseOptions, 'path'> = {}): Promise<{ dir: string; base: string }> {
  const dir = await makeTempDir(t);
  const base = join(dir, 'base.img');
  await makeDemoBase({ path: base, ...options });
  return { dir, base };
}

async function rootVolume(image: string): Promise<{ image: string; offset: number }> {
  const layout = await readLayout(image);
  return { image, offset: layout.root.start * layout.table.sectorSize };
}

// What `stat` inside the image says about each path (undefined when missing).
export async function statInImage(image: string, paths: string[]): Promise<Map<string, ExtInode | undefined>> {
  return statExtPaths(await rootVolume(image), paths);
}

// A root-partition file's bytes, read back out of the image with debugfs.
export async function readRootFile(image: string, path: string, scratch: string): Promise<Buffer | undefined> {
  const target = join(scratch, `read-${createHash('sha1').update(path).digest('hex')}`);
  await rm(target, { force: true });
  if (!(await dumpExtFile(await rootVolume(image), path, target))) return undefined;
  return readFile(target).catch(() => undefined);
}

// A boot-partition file's text, read with mtools as any FAT reader would.
export async function readBootFile(image: string, path: string): Promise<string | undefined> {
  const layout = await readLayout(image);
  const result = await execa('mtype', ['-i', `${image}@@${layout.boot.start * layout.table.sectorSize}`, `::${path}`], { reject: false, stripFinalNewline: false, env: { MTOOLS_SKIP_CHECK: '1' } });
  return result.exitCode === 0 ? String(result.stdout) : undefined;
}

// e2fsck -fn on the root partition and fsck.fat -n on a copy of the boot partition: both must be clean.
export async function checkFilesystems(image: string, scratch: string): Promise<{ ext: number; fat: number; output: string }> {
  const layout = await readLayout(image);
  const sector = layout.table.sectorSize;
  const ext = await execa('e2fsck', ['-fn', `${image}?offset=${layout.root.start * sector}`], { reject: false });
  const part = join(scratch, 'boot-check.vfat');
  await execa('dd', [`if=${image}`, `of=${part}`, 'bs=1M', `skip=${layout.boot.start * sector}`, `count=${layout.boot.size * sector}`, 'iflag=skip_bytes,count_bytes', 'status=none']);
  const fat = await execa('fsck.fat', ['-n', part], { reject: false });
  await rm(part, { force: true });
  return { ext: ext.exitCode ?? -1, fat: fat.exitCode ?? -1, output: `${ext.stdout}${ext.stderr}${fat.stdout}${fat.stderr}` };
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
