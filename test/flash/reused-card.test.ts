import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { writeBmap } from '../../src/flash/write-bmap.ts';
import { runCli } from '../helpers/cli.ts';
import { checkFilesystems, digHoles, EXT_START, FAT_START, makeLoopDevice, makeTempDir, makeTestImage, readBytes, readFatDataStart, type TestImage } from './helpers.ts';

// The boot sector, reserved sectors and both FATs are byte-equal on the card, and so is every ext4 metadata block
// (e2image -r copies superblocks, descriptors, bitmaps, inode tables, directories and the journal, nothing else).
async function checkMetadataEqual(t: ExecutionContext, card: string, image: TestImage, dir: string): Promise<void> {
  const fatMetadata = await readFatDataStart(image.path);
  t.true(fatMetadata > 0);
  t.true((await readBytes(card, FAT_START, fatMetadata)).equals(await readBytes(image.path, FAT_START, fatMetadata)), 'boot sector, reserved sectors and both FATs are equal');
  const metadata: string[] = [];
  for (const [name, source] of [['image', image.path], ['card', card]] as const) {
    const ext = path.join(dir, `${name}-ext.img`);
    await writeFile(ext, await readBytes(source, EXT_START, image.size - EXT_START));
    await execa('e2image', ['-r', ext, `${ext}.meta`]);
    metadata.push(`${ext}.meta`);
  }
  const cmp = await execa('cmp', metadata, { reject: false, all: true });
  t.is(cmp.exitCode, 0, `ext4 metadata differs: ${cmp.all}`);
}

async function makeReusedCardSetup(t: ExecutionContext, mapper: 'pikube' | 'bmaptool' = 'pikube'): Promise<{ dir: string; image: TestImage; card: string }> {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir);
  await digHoles(image.path);
  if (mapper === 'pikube') await writeBmap(image.path, `${image.path}.bmap`);
  else await execa('bmaptool', ['create', '-o', `${image.path}.bmap`, image.path]);
  const card = await makeLoopDevice(t, dir, 128, 'random');
  return { dir, image, card };
}

test('pikube flash onto a card full of old random data leaves both filesystems clean and their metadata equal to the image', async (t) => {
  const { dir, image, card } = await makeReusedCardSetup(t);
  const run = await runCli(['flash', image.path, '--device', card, '--yes', '--allow-non-removable']);
  t.is(run.exitCode, 0, run.stderr);
  t.regex(run.stderr, /read back and verified/);
  await checkFilesystems(t, card, image, dir);
  await checkMetadataEqual(t, card, image, dir);
});

test('bmaptool copy with pikube\'s block map onto a card full of old random data reads back clean too', async (t) => {
  const { dir, image, card } = await makeReusedCardSetup(t);
  const copy = await execa('bmaptool', ['copy', '--bmap', `${image.path}.bmap`, image.path, card], { reject: false, all: true });
  t.is(copy.exitCode, 0, copy.all);
  await checkFilesystems(t, card, image, dir);
  await checkMetadataEqual(t, card, image, dir);
});

test('a map from bmaptool create (the file\'s holes) is completed from the filesystems with a warning, and pikube bmap rewrites it', async (t) => {
  const { dir, image, card } = await makeReusedCardSetup(t, 'bmaptool');
  const run = await runCli(['flash', image.path, '--device', card, '--yes', '--allow-non-removable']);
  t.is(run.exitCode, 0, run.stderr);
  t.regex(run.stderr, /warning: .*pi\.img\.bmap leaves out [\d.]+ [kMG]B that the image's filesystems use/);
  t.regex(run.stderr, /hint: `pikube bmap .*pi\.img` rewrites/);
  await checkFilesystems(t, card, image, dir);
  await checkMetadataEqual(t, card, image, dir);
  const rewrite = await runCli(['bmap', image.path]);
  t.is(rewrite.exitCode, 0, rewrite.stderr);
  t.is(rewrite.stdout.trim(), `${image.path}.bmap`);
  const again = await runCli(['flash', image.path, '--device', card, '--yes', '--allow-non-removable']);
  t.is(again.exitCode, 0, again.stderr);
  t.notRegex(again.stderr, /leaves out/, 'the rewritten map needs nothing added');
});
