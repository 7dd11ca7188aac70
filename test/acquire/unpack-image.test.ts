import { randomBytes } from 'node:crypto';
import { copyFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { UserError } from '../../src/errors.ts';
import { unpackImage } from '../../src/acquire/unpack-image.ts';
import { makeTempDir } from '../helpers/temp.ts';

const MiB = 1024 * 1024;

// An 8 MiB "disk": random data at the start, in the middle and at the end, zeros between.
function makeImage(): Buffer {
  const image = Buffer.alloc(8 * MiB);
  randomBytes(300 * 1024).copy(image, 0);
  randomBytes(70 * 1024).copy(image, 3 * MiB + 12345);
  randomBytes(5000).copy(image, image.length - 5000);
  return image;
}

async function imageIn(dir: string, name: string, content = makeImage()): Promise<{ file: string; content: Buffer }> {
  const file = path.join(dir, name);
  await writeFile(file, content);
  return { file, content };
}

test('a zip with one .img entry is unpacked, byte for byte, as a sparse file', async (t) => {
  const dir = await makeTempDir(t, 'pikube-write-');
  const { file, content } = await imageIn(dir, 'base.img');
  await execa('zip', ['-q', '-j', path.join(dir, 'base.img.zip'), file]);
  const dest = path.join(dir, 'out.img');
  const result = await unpackImage(path.join(dir, 'base.img.zip'), dest);
  t.deepEqual(result, { bytes: content.length, format: 'zip', entry: 'base.img' });
  t.true((await readFile(dest)).equals(content));
  const info = await stat(dest);
  t.true(info.blocks * 512 < 2 * MiB, `allocated ${info.blocks * 512} bytes`);
});

test('a zip with several entries needs one named, and the error lists them', async (t) => {
  const dir = await makeTempDir(t, 'pikube-write-');
  const a = await imageIn(dir, 'a.img');
  const b = await imageIn(dir, 'b.img');
  await writeFile(path.join(dir, 'README.txt'), 'hello');
  const zip = path.join(dir, 'two.zip');
  await execa('zip', ['-q', '-j', zip, a.file, b.file, path.join(dir, 'README.txt')]);
  const dest = path.join(dir, 'out.img');
  const error = await t.throwsAsync(unpackImage(zip, dest), { instanceOf: UserError });
  t.is(error.message, 'two.zip holds several images: a.img, b.img, README.txt');
  t.regex(error.hint ?? '', /entry:/);
  const result = await unpackImage(zip, dest, { entry: 'b.img' });
  t.is(result.entry, 'b.img');
  t.true((await readFile(dest)).equals(b.content));
  await t.throwsAsync(unpackImage(zip, dest, { entry: 'c.img' }), { instanceOf: UserError, message: /has no entry named c\.img; it holds: a\.img, b\.img, README\.txt/ });
});

test('a ZIP64 archive (forced with zip -fz) is read', async (t) => {
  const dir = await makeTempDir(t, 'pikube-write-');
  const { file, content } = await imageIn(dir, 'big.img');
  const zip = path.join(dir, 'big.zip');
  await execa('zip', ['-q', '-j', '-fz', zip, file]);
  const listing = await execa('zipinfo', ['-v', zip]);
  t.regex(listing.stdout, /PKWARE 64-bit sizes/);
  const result = await unpackImage(zip, path.join(dir, 'out.img'));
  t.is(result.bytes, content.length);
  t.true((await readFile(path.join(dir, 'out.img'))).equals(content));
});

test('a zip streamed from stdin (data descriptors, ZIP64 end records) is read', async (t) => {
  const dir = await makeTempDir(t, 'pikube-write-');
  const { file, content } = await imageIn(dir, 'piped.img');
  const zip = path.join(dir, 'piped.zip');
  await execa('sh', ['-c', 'zip -q -fz - - < "$1" > "$2"', 'sh', file, zip]);
  await execa('unzip', ['-tq', zip]);
  t.true((await readFile(zip)).includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), 'has a ZIP64 end of central directory record');
  const result = await unpackImage(zip, path.join(dir, 'out.img'));
  t.is(result.entry, '-');
  t.true((await readFile(path.join(dir, 'out.img'))).equals(content));
});

test('xz and gzip images are unpacked, detected by content rather than name', async (t) => {
  const dir = await makeTempDir(t, 'pikube-write-');
  const { file, content } = await imageIn(dir, 'base.img');
  await execa('xz', ['-k', '-T0', file]);
  await execa('gzip', ['-k', file]);
  await copyFile(`${file}.xz`, path.join(dir, 'misnamed.img'));
  for (const [source, format] of [[`${file}.xz`, 'xz'], [`${file}.gz`, 'gzip'], [path.join(dir, 'misnamed.img'), 'xz']] as const) {
    const dest = path.join(dir, `out-${path.basename(source)}`);
    const result = await unpackImage(source, dest);
    t.deepEqual(result, { bytes: content.length, format }, source);
    t.true((await readFile(dest)).equals(content), source);
    t.true((await stat(dest)).blocks * 512 < 3 * MiB, `${source} is sparse`);
  }
});

test('a plain image is copied sparsely', async (t) => {
  const dir = await makeTempDir(t, 'pikube-write-');
  const { file, content } = await imageIn(dir, 'plain.img');
  const dest = path.join(dir, 'out.img');
  t.deepEqual(await unpackImage(file, dest), { bytes: content.length, format: 'raw' });
  t.true((await readFile(dest)).equals(content));
  t.true((await stat(dest)).blocks * 512 < 2 * MiB);
});

test('truncated archives are clear UserErrors and leave no output behind', async (t) => {
  const dir = await makeTempDir(t, 'pikube-write-');
  const { file } = await imageIn(dir, 'base.img');
  await execa('zip', ['-q', '-j', `${file}.zip`, file]);
  await execa('xz', ['-k', '-T0', file]);
  await execa('gzip', ['-k', file]);
  for (const [suffix, pattern] of [['.zip', /base\.img\.zip is not a readable zip archive \(truncated or corrupt/], ['.xz', /base\.img\.xz is not a readable xz file \(truncated or corrupt: Unexpected end of input\)/], ['.gz', /base\.img\.gz is not a readable gzip file \(truncated or corrupt/]] as const) {
    const archive = `${file}${suffix}`;
    await truncate(archive, Math.floor((await stat(archive)).size / 2));
    const dest = path.join(dir, `out${suffix}.img`);
    await t.throwsAsync(unpackImage(archive, dest), { instanceOf: UserError, message: pattern }, suffix);
    await t.throwsAsync(stat(dest), { code: 'ENOENT' }, suffix);
  }
});

test('a zip whose data is damaged fails the CRC or inflate check', async (t) => {
  const dir = await makeTempDir(t, 'pikube-write-');
  const { file } = await imageIn(dir, 'base.img');
  const zip = `${file}.zip`;
  await execa('zip', ['-q', '-j', zip, file]);
  const bytes = await readFile(zip);
  for (let i = 1000; i < 1100; i++) bytes[i] = bytes[i]! ^ 0xff;
  await writeFile(zip, bytes);
  await t.throwsAsync(unpackImage(zip, path.join(dir, 'out.img')), { instanceOf: UserError, message: /not a readable zip archive/ });
});

test('a missing base is a UserError', async (t) => {
  const dir = await makeTempDir(t, 'pikube-write-');
  await t.throwsAsync(unpackImage(path.join(dir, 'nope.img'), path.join(dir, 'out.img')), { instanceOf: UserError, message: /does not exist/ });
});
