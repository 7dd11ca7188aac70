import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { unpackImage } from '../../src/acquire/unpack-image.ts';
import { UserError } from '../../src/errors.ts';
import { flashImage } from '../../src/flash/flash-image.ts';
import { makeTempDir } from '../helpers/temp.ts';

const MiB = 1024 * 1024;
const quiet = { onProgress: () => {}, powerOff: false, yes: true };

// A small disk image: an MBR with one partition and random bytes in it, so build and flash both take it.
async function makeDisk(file: string): Promise<Buffer> {
  await execa('truncate', ['-s', String(4 * MiB), file]);
  await execa('sfdisk', ['-q', file], { input: 'label: dos\nstart=2048, type=83\n' });
  const disk = await readFile(file);
  randomBytes(256 * 1024).copy(disk, 2 * MiB);
  await writeFile(file, disk);
  return disk;
}

// Zips the given files (name -> content or a disk to make) with their paths as given.
async function makeZip(dir: string, name: string, files: Record<string, 'disk' | string>): Promise<{ zip: string; disks: Map<string, Buffer> }> {
  const root = path.join(dir, `${name}.d`);
  const disks = new Map<string, Buffer>();
  for (const [file, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    if (content === 'disk') disks.set(file, await makeDisk(path.join(root, file)));
    else await writeFile(path.join(root, file), content);
  }
  const zip = path.join(dir, `${name}.zip`);
  await execa('zip', ['-q', '-r', zip, ...Object.keys(files)], { cwd: root });
  return { zip, disks };
}

// What build (a base .zip unpacked) and flash (a .zip written to a file) each make of one archive.
async function buildAndFlash(dir: string, zip: string): Promise<{ built: Buffer | UserError; flashed: Buffer | UserError }> {
  const outcome = async (run: (out: string) => Promise<unknown>, out: string) => {
    try {
      await run(out);
      return await readFile(out);
    } catch (error) {
      if (error instanceof UserError) return error;
      throw error;
    }
  };
  const stem = path.basename(zip, '.zip');
  return {
    built: await outcome((out) => unpackImage(zip, out), path.join(dir, `${stem}.built`)),
    flashed: await outcome((out) => flashImage({ ...quiet, imagePath: zip, device: out }), path.join(dir, `${stem}.flashed`)),
  };
}

test('build and flash take the same entry: the one .img/.raw/.bin (any case), skipping __MACOSX/ and dot files', async (t) => {
  const dir = await makeTempDir(t, 'pikube-zip-rule-');
  const cases: Array<[string, Record<string, 'disk' | string>, string]> = [
    ['bin', { 'disk.bin': 'disk', 'README.txt': 'read me' }, 'disk.bin'],
    ['raw', { 'images/Pi.RAW': 'disk', 'LICENSE': 'MIT' }, 'images/Pi.RAW'],
    ['macosx', { 'pi.img': 'disk', '__MACOSX/._pi.img': 'resource fork', '.hidden.img': 'dot file' }, 'pi.img'],
    ['single', { 'disk-image': 'disk' }, 'disk-image'],
  ];
  for (const [name, files, expected] of cases) {
    const { zip, disks } = await makeZip(dir, name, files);
    const { built, flashed } = await buildAndFlash(dir, zip);
    const disk = disks.get(expected) as Buffer;
    t.true(Buffer.isBuffer(built) && built.equals(disk), `${name}: build unpacked ${expected}`);
    t.true(Buffer.isBuffer(flashed) && flashed.subarray(0, disk.length).equals(disk), `${name}: flash wrote ${expected}`);
  }
});

test('build and flash refuse the same zips with the same message, listing what is inside and the fix', async (t) => {
  const dir = await makeTempDir(t, 'pikube-zip-rule-');
  const cases: Array<[string, Record<string, 'disk' | string>, string]> = [
    ['two', { 'a.img': 'disk', 'b.IMG': 'disk', 'README.txt': 'read me' }, 'two.zip holds several images: a.img, b.IMG, README.txt'],
    ['none', { 'notes.txt': 'one', 'more.txt': 'two' }, 'none.zip holds no single image (.img, .raw or .bin): notes.txt, more.txt'],
  ];
  for (const [name, files, message] of cases) {
    const { zip } = await makeZip(dir, name, files);
    const { built, flashed } = await buildAndFlash(dir, zip);
    for (const [side, result] of [['build', built], ['flash', flashed]] as const) {
      t.true(result instanceof UserError, `${name}: ${side} refuses it`);
      const error = result as UserError;
      t.is(error.message, message, `${name}: ${side}`);
      t.regex(error.hint ?? '', /`entry:` in the recipe, or unzip it and give the image file itself/, `${name}: ${side}`);
    }
    await t.throwsAsync(stat(path.join(dir, `${name}.built`)), { code: 'ENOENT' }, `${name}: build left no output`);
  }
});
