import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { runCli } from '../helpers/cli.ts';
import { checkFilesystems, makeBase, readBootFile, readRootFile } from '../helpers/image.ts';
import { writeRecipe } from '../helpers/recipe.ts';

// tmpfs (/tmp on many desktops) reports no extents (filefrag: FIEMAP unsupported); the block map must not need them.
test('build into a folder on tmpfs writes the image and a block map that bmaptool copy writes out clean', async (t) => {
  const { dir, base } = await makeBase(t);
  const mountpoint = join(dir, 'tmpfs');
  await mkdir(mountpoint);
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=1g', 'pikube-test', mountpoint]);
  t.teardown(() => execa('umount', [mountpoint], { reject: false }).then(() => undefined));
  const recipe = await writeRecipe(dir, {
    base,
    hostname: 'on-tmpfs',
    files: [{ path: '/etc/motd', content: 'built on tmpfs\n' }, { partition: 'boot', path: '/note.txt', content: 'fat on tmpfs\n' }],
  });
  const output = join(mountpoint, 'out.img');
  const result = await runCli(['build', '-c', recipe, '-o', output]);
  t.is(result.exitCode, 0, result.stderr);
  t.is((await readRootFile(output, '/etc/motd', dir))?.toString(), 'built on tmpfs\n');
  t.is(await readBootFile(output, '/note.txt'), 'fat on tmpfs\n');
  const bmap = await readFile(`${output}.bmap`, 'utf8');
  const mapped = Number(/<MappedBlocksCount> (\d+) </.exec(bmap)?.[1]);
  const total = Number(/<BlocksCount> (\d+) </.exec(bmap)?.[1]);
  t.true(mapped > 0 && mapped < total, `the map leaves free space out (${mapped} of ${total} blocks)`);
  const copy = join(dir, 'card.img');
  const written = await execa('bmaptool', ['copy', '--bmap', `${output}.bmap`, output, copy], { reject: false, all: true });
  t.is(written.exitCode, 0, written.all);
  const fsck = await checkFilesystems(copy, dir);
  t.is(fsck.ext, 0, fsck.output);
  t.is(fsck.fat, 0, fsck.output);
  t.is((await readRootFile(copy, '/etc/motd', dir))?.toString(), 'built on tmpfs\n');
});
