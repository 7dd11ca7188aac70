import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { readBlockMap } from '../../src/flash/block-map.ts';
import { writeBmap } from '../../src/flash/write-bmap.ts';
import { digHoles, EXT_START, FAT_START, makeTempDir, makeTestImage, MiB, readFatDataStart } from './helpers.ts';

test('writeBmap maps what the filesystems use, zeros and metadata included, and leaves out only their free space', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir);
  await digHoles(image.path);
  const map = await writeBmap(image.path, `${image.path}.bmap`);
  t.is(map.imageSize, image.size);
  const covered = (start: number, end: number) => map.ranges.some((r) => r.start <= start && r.end >= end);
  // The partition table, the gap before the first partition, the FAT boot sector and both FATs (holes in the file).
  t.true(covered(0, FAT_START + (await readFatDataStart(image.path))), 'everything before the FAT data area is mapped');
  // Every block bmaptool create maps (the file's data) that holds a used ext4 block or FAT cluster is mapped too.
  const theirs = (await execa('bmaptool', ['create', image.path])).stdout;
  const mappedBlocks = (text: string) => [...text.matchAll(/<Range[^>]*>\s*(\d+)(?:-(\d+))?\s*<\/Range>/g)].map((m) => [Number(m[1]), Number(m[2] ?? m[1])] as const);
  const extMetadata = (await execa('dumpe2fs', [`${image.path}?offset=${EXT_START}`])).stdout;
  const journal = /^Total journal size:\s+(\d+)k/m.exec(extMetadata);
  const blockSize = Number(/^Block size:\s+(\d+)/m.exec(extMetadata)?.[1]);
  t.truthy(journal, 'the ext4 root has a journal');
  const ours = mappedBlocks(await readFile(`${image.path}.bmap`, 'utf8'));
  const mapped = ours.reduce((sum, [first, last]) => sum + (last - first + 1) * 4096, 0);
  const data = mappedBlocks(theirs).reduce((sum, [first, last]) => sum + (last - first + 1) * 4096, 0);
  t.true(mapped > data + Number(journal?.[1]) * 1024 / 2, `the zeroed journal and FATs are mapped beyond the file's data (${mapped} > ${data})`);
  t.true(mapped < image.size / 2, `free space is left out (${mapped} of ${image.size} bytes)`);
  // Free ext4 blocks per the block bitmaps are left out.
  const free = [...extMetadata.matchAll(/^\s+Free blocks: (\d+)-(\d+)/gm)].map((m) => [EXT_START + Number(m[1]) * blockSize, EXT_START + (Number(m[2]) + 1) * blockSize] as const);
  const large = free.filter(([start, end]) => end - start >= MiB);
  t.true(large.length > 0);
  for (const [start, end] of large) t.false(map.ranges.some((r) => r.start < end - 4096 && r.end > start + 4096), `free ext4 blocks ${start}-${end} are not mapped`);
  t.true((await readBlockMap(`${image.path}.bmap`)).fromFilesystems, 'pikube\'s map says it was made from the filesystems');
  await execa('bmaptool', ['create', '-o', `${image.path}.holes.bmap`, image.path]);
  t.falsy((await readBlockMap(`${image.path}.holes.bmap`)).fromFilesystems, 'a bmaptool create map does not');
});

test('an image without a partition table, or with a filesystem pikube cannot read, is mapped whole, holes included', async (t) => {
  const dir = await makeTempDir(t);
  const file = path.join(dir, 'raw.img');
  await execa('truncate', ['-s', `${8 * MiB}`, file]);
  const bare = await writeBmap(file, `${file}.bmap`);
  t.deepEqual(bare.ranges.map((r) => [r.start, r.end]), [[0, 8 * MiB]]);
  await execa('sfdisk', ['-q', file], { input: 'label: dos\nstart=2048, type=83\n' });
  const unknown = await writeBmap(file, `${file}.bmap`);
  t.deepEqual(unknown.ranges.map((r) => [r.start, r.end]), [[0, 8 * MiB]]);
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
