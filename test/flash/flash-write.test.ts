import { randomBytes } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { InterruptedError, ToolError, UserError } from '../../src/errors.ts';
import { readBlockMap } from '../../src/flash/block-map.ts';
import { flashImage } from '../../src/flash/flash-image.ts';
import { writeBmap } from '../../src/flash/write-bmap.ts';
import { checkFilesystems, makeLoopDevice, makeTempDir, makeTestImage, MiB, readBytes } from './helpers.ts';

const quiet = { onProgress: () => {}, powerOff: false, yes: true };

test('a full write to a loop device reads back equal to the image and gives clean filesystems', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir);
  const device = await makeLoopDevice(t, dir, 128);
  const summary = await flashImage({ ...quiet, imagePath: image.path, device, allowNonRemovable: true });
  t.is(summary.bmapPath, undefined);
  t.true(summary.verified);
  t.true(summary.directIo, 'a loop device takes O_DIRECT writes');
  t.is(summary.bytesWritten, image.size);
  t.true((await readBytes(device, 0, image.size)).equals(await readFile(image.path)));
  t.true((await readBytes(device, image.size, MiB)).equals(Buffer.alloc(MiB, 0xa5)), 'bytes past the image are untouched');
  await checkFilesystems(t, device, image, dir);
});

test('a mapped write over stale bytes matches the image on every mapped block and gives clean filesystems', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir);
  await writeBmap(image.path, `${image.path}.bmap`);
  const device = await makeLoopDevice(t, dir, 128);
  const summary = await flashImage({ ...quiet, imagePath: image.path, device, allowNonRemovable: true });
  t.is(summary.bmapPath, `${image.path}.bmap`);
  const map = await readBlockMap(`${image.path}.bmap`);
  const mapped = map.ranges.reduce((sum, r) => sum + r.end - r.start, 0);
  t.is(summary.bytesWritten, mapped);
  t.true(mapped < image.size / 2);
  for (const range of map.ranges) {
    const expected = await readBytes(image.path, range.start, range.end - range.start);
    t.true((await readBytes(device, range.start, range.end - range.start)).equals(expected), `range ${range.start}-${range.end}`);
  }
  await checkFilesystems(t, device, image, dir);
});

test('a mapped write to a plain file reproduces the image byte for byte', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 64);
  await writeBmap(image.path, `${image.path}.bmap`);
  const out = path.join(dir, 'card.img');
  await flashImage({ ...quiet, imagePath: image.path, device: out });
  t.true((await readFile(out)).equals(await readFile(image.path)));
});

test('compressed images (.gz, .xz, .zip) are streamed; .xz with the image\'s .bmap writes only mapped ranges', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 64);
  const original = await readFile(image.path);
  await execa('gzip', ['-k', '-1', image.path]);
  await execa('xz', ['-k', '-0', '-T2', image.path]);
  await execa('zip', ['-q', '-1', '-j', path.join(dir, 'pi.zip'), image.path]);
  for (const compressed of [`${image.path}.gz`, `${image.path}.xz`, path.join(dir, 'pi.zip')]) {
    const out = path.join(dir, `${path.basename(compressed)}.out`);
    const summary = await flashImage({ ...quiet, imagePath: compressed, device: out });
    t.is(summary.format, compressed.endsWith('.gz') ? 'gzip' : compressed.endsWith('.xz') ? 'xz' : 'zip');
    t.true((await readFile(out)).equals(original), compressed);
  }
  await writeBmap(image.path, `${image.path}.bmap`);
  const device = await makeLoopDevice(t, dir, 64);
  const summary = await flashImage({ ...quiet, imagePath: `${image.path}.xz`, device, allowNonRemovable: true });
  t.is(summary.bmapPath, `${image.path}.bmap`);
  t.true(summary.bytesWritten < image.size / 2);
  await checkFilesystems(t, device, image, dir);
});

test('a truncated .gz and a stored .zip with a flipped byte are refused as damaged, not written as good', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 48);
  await execa('gzip', ['-k', '-1', image.path]);
  const gz = `${image.path}.gz`;
  const gzBytes = await readFile(gz);
  await writeFile(gz, gzBytes.subarray(0, Math.floor(gzBytes.length / 2)));
  await t.throwsAsync(flashImage({ ...quiet, imagePath: gz, device: path.join(dir, 'gz.out') }), { instanceOf: UserError, message: /pi\.img\.gz is not a readable gzip file \(truncated or corrupt/ });
  const zip = path.join(dir, 'stored.zip');
  await execa('zip', ['-q', '-0', '-j', zip, image.path]);
  const zipBytes = await readFile(zip);
  const at = zipBytes.indexOf(Buffer.from('PK\u0003\u0004', 'latin1')) + 30 + 'pi.img'.length + 3 * MiB;
  zipBytes[at] = zipBytes[at]! ^ 0xff;
  await writeFile(zip, zipBytes);
  await t.throwsAsync(flashImage({ ...quiet, imagePath: zip, device: path.join(dir, 'zip.out') }), { instanceOf: UserError, message: /stored\.zip is not a readable zip archive \(.*CRC/ });
});

test('verification catches one byte changed on the target, and the partition table is then never written', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir);
  await writeBmap(image.path, `${image.path}.bmap`);
  const map = await readBlockMap(`${image.path}.bmap`);
  const victim = map.ranges.find((r) => r.start >= 2 * MiB);
  if (!victim) throw new Error('test image has no mapped range past 2 MiB');
  const device = await makeLoopDevice(t, dir, 128);
  let corrupted = false;
  const error = await t.throwsAsync(flashImage({
    ...quiet, imagePath: image.path, device, allowNonRemovable: true,
    afterSync: async (writtenUpTo) => {
      if (corrupted || writtenUpTo <= victim.start + 10) return;
      corrupted = true;
      const handle = await open(device, 'r+');
      const original = await readBytes(device, victim.start + 10, 1);
      await handle.write(Buffer.from([(original[0] ?? 0) ^ 0xff]), 0, 1, victim.start + 10);
      await handle.sync();
      await handle.close();
    },
  }), { instanceOf: ToolError });
  t.regex(error?.message ?? '', new RegExp(`verification failed: bytes ${victim.start}-${victim.end} read back from ${device} differ`));
  t.true((await readBytes(device, 0, MiB)).equals(Buffer.alloc(MiB)), 'the first megabyte holds no partition table');
});

test('--no-verify skips the read-back and still writes the image', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 64);
  const device = await makeLoopDevice(t, dir, 64);
  const summary = await flashImage({ ...quiet, imagePath: image.path, device, allowNonRemovable: true, verify: false });
  t.false(summary.verified);
  t.true((await readBytes(device, 0, MiB)).equals(await readBytes(image.path, 0, MiB)));
});

test('an interrupted write leaves the first megabyte unwritten (cleared, no partition table)', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir);
  const device = await makeLoopDevice(t, dir, 128);
  const controller = new AbortController();
  let writtenWhenStopped = 0;
  await t.throwsAsync(flashImage({
    ...quiet, imagePath: image.path, device, allowNonRemovable: true, signal: controller.signal, syncWindowBytes: MiB,
    onProgress: (progress) => {
      if (progress.written >= 8 * MiB && !controller.signal.aborted) {
        writtenWhenStopped = progress.written;
        controller.abort();
      }
    },
  }), { instanceOf: InterruptedError });
  t.true(writtenWhenStopped >= 8 * MiB);
  t.true((await readBytes(device, 0, MiB)).equals(Buffer.alloc(MiB)), 'the first megabyte is zero: no partition table');
  t.true((await readBytes(device, MiB, MiB)).equals(await readBytes(image.path, MiB, MiB)), 'data after it was written');
  t.true((await readBytes(device, image.size - MiB, MiB)).equals(Buffer.alloc(MiB, 0xa5)), 'the end was never reached');
  const sfdisk = await execa('sfdisk', ['--dump', device], { reject: false, all: true });
  t.notRegex(sfdisk.all ?? '', /start=\s*2048/);
});

test('an image changed after its .bmap was made is reported as such, not as a bad card', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 64);
  await writeBmap(image.path, `${image.path}.bmap`);
  const map = await readBlockMap(`${image.path}.bmap`);
  const victim = map.ranges.find((r) => r.start >= 2 * MiB);
  if (!victim) throw new Error('test image has no mapped range past 2 MiB');
  const handle = await open(image.path, 'r+');
  await handle.write(Buffer.from('changed'), 0, 7, victim.start);
  await handle.close();
  const device = await makeLoopDevice(t, dir, 64);
  const error = await t.throwsAsync(flashImage({ ...quiet, imagePath: image.path, device, allowNonRemovable: true }), { instanceOf: UserError });
  t.regex(error?.message ?? '', /does not match its block map/);
  t.regex((error as UserError | undefined)?.hint ?? '', /rebuild the block map/);
  t.true((await readBytes(device, 0, MiB)).equals(Buffer.alloc(MiB)), 'the first megabyte holds no partition table');
});

test('an image whose size is not a multiple of 4 KiB is written whole, its odd tail included', async (t) => {
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'odd.img');
  const bytes = randomBytes(5 * MiB + 1234);
  await writeFile(file, bytes);
  const device = await makeLoopDevice(t, dir, 8);
  const summary = await flashImage({ ...quiet, imagePath: file, device, allowNonRemovable: true });
  t.true(summary.directIo);
  t.true((await readBytes(device, 0, bytes.length)).equals(bytes));
  t.true((await readBytes(device, bytes.length, 100)).equals(Buffer.alloc(100, 0xa5)), 'nothing written past the image');
});
