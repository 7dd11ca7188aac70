import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { readBlockMap } from '../../src/flash/block-map.ts';
import { writeBmap } from '../../src/flash/write-bmap.ts';
import { makeTempDir, makeTestImage, MiB } from './helpers.ts';

function rangeLines(text: string): string[] {
  return [...text.matchAll(/<Range chksum="([0-9a-f]+)">\s*([\d-]+)\s*<\/Range>/g)].map((m) => `${m[2]} ${m[1]}`);
}

test('writeBmap maps the same ranges with the same checksums as bmaptool create', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir);
  const map = await writeBmap(image.path, `${image.path}.bmap`);
  const ours = await readFile(`${image.path}.bmap`, 'utf8');
  const theirs = (await execa('bmaptool', ['create', image.path])).stdout;
  t.deepEqual(rangeLines(ours), rangeLines(theirs));
  t.true(map.ranges.length > 3);
  t.is(map.imageSize, image.size);
  const mapped = map.ranges.reduce((sum, r) => sum + r.end - r.start, 0);
  t.true(mapped < image.size / 2, `a sparse image maps only part of itself (${mapped} bytes)`);
});

test('bmaptool copy accepts our .bmap and writes the image exactly', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 64);
  await writeBmap(image.path, path.join(dir, 'pi.bmap'));
  const out = path.join(dir, 'out.img');
  const copy = await execa('bmaptool', ['copy', '--bmap', path.join(dir, 'pi.bmap'), image.path, out], { all: true, reject: false });
  t.is(copy.exitCode, 0, copy.all);
  t.regex(copy.all ?? '', /block map format version 2\.0/);
  const cmp = await execa('cmp', [image.path, out], { reject: false });
  t.is(cmp.exitCode, 0, cmp.stdout);
});

test('a bmap whose bytes were changed is refused, by us and by bmaptool', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 64);
  const bmap = path.join(dir, 'pi.bmap');
  await writeBmap(image.path, bmap);
  const text = await readFile(bmap, 'utf8');
  await writeFile(bmap, text.replace(/<Range chksum="([0-9a-f]+)"> (\d+)/, (_m, sum: string, first: string) => `<Range chksum="${sum}"> ${Number(first) + 1}`));
  await t.throwsAsync(readBlockMap(bmap), { message: /checksum does not match/ });
  const copy = await execa('bmaptool', ['copy', '--bmap', bmap, image.path, path.join(dir, 'out.img')], { all: true, reject: false });
  t.not(copy.exitCode, 0);
  t.regex(copy.all ?? '', /checksum mismatch/);
});

test('a fully allocated image is mapped whole, including blocks of written zeros', async (t) => {
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'dense.img');
  await writeFile(file, Buffer.concat([Buffer.alloc(2 * MiB), Buffer.from('end')]));
  const map = await writeBmap(file, `${file}.bmap`);
  t.deepEqual(map.ranges.map((r) => [r.start, r.end]), [[0, 2 * MiB + 3]]);
  const reread = await readBlockMap(`${file}.bmap`);
  t.deepEqual(reread.ranges, map.ranges);
});
