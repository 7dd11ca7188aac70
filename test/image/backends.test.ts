import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import test from 'ava';
import { execa } from 'execa';
import { runCli } from '../helpers/cli.ts';
import { checkFilesystems, makeBase, readRootFile, sha256, statInImage } from '../helpers/image.ts';
import { writeRecipe } from '../helpers/recipe.ts';

const isRoot = process.getuid?.() === 0;
const PATHS = ['/etc/hostname', '/etc/motd', '/opt/x/y/z.txt', '/opt/x/y', '/opt/x', '/usr/local/bin/tool', '/usr/local/bin/t', '/var/run/pikube.pid', '/run/pikube.pid', '/home/pirate/secret', '/srv/blob.bin'];

async function loopDevicesOf(image: string): Promise<string[]> {
  const result = await execa('losetup', ['--associated', image], { reject: false });
  return String(result.stdout).split('\n').filter(Boolean);
}

(isRoot ? test : test.skip)('the mount backend and the debugfs backend give the same tree, also when growing', async (t) => {
  const { dir } = await makeBase(t, { sizeMiB: 160, rootMiB: 80 });
  const blob = Buffer.alloc(90 * 2 ** 20, 9);
  const recipe = await writeRecipe(dir, {
    base: 'base.img',
    files: [
      { path: '/etc/hostname', content: 'both\n' },
      { path: '/etc/motd', content: 'motd\n', mode: '0600' },
      { path: '/opt/x/y/z.txt', content: 'z\n', owner: '1000:44' },
      { path: '/usr/local/bin/tool', content: '#!/bin/sh\n', mode: '0755' },
      { path: '/usr/local/bin/t', symlink: 'tool' },
      { path: '/var/run/pikube.pid', content: '1\n' },
      { path: '/home/pirate/secret', content: 's\n', owner: 'pirate', mode: '0400' },
    ],
  }, { 'srv/blob.bin': blob });
  const trees: Array<Map<string, unknown>> = [];
  for (const backend of ['debugfs', 'mount']) {
    const output = join(dir, `${backend}.img`);
    const result = await runCli(['build', '-c', recipe, '-o', output, '--backend', backend]);
    t.is(result.exitCode, 0, result.stderr);
    t.deepEqual(await loopDevicesOf(output), [], 'no loop device is left attached');
    const stats = await statInImage(output, PATHS);
    const tree = new Map<string, unknown>();
    for (const path of PATHS) {
      const s = stats.get(path);
      const bytes = s?.type === 'regular' ? await readRootFile(output, path, dir) : undefined;
      tree.set(path, s ? { type: s.type, mode: s.mode, uid: s.uid, gid: s.gid, size: s.size, link: s.linkTarget, sha: bytes ? sha256(bytes) : null } : null);
    }
    trees.push(tree);
    const fsck = await checkFilesystems(output, dir);
    t.is(fsck.ext + fsck.fat, 0, fsck.output);
  }
  t.deepEqual(Object.fromEntries(trees[1] ?? []), Object.fromEntries(trees[0] ?? []));
  t.like(trees[0]?.get('/run/pikube.pid'), { type: 'regular' }, 'an absolute symlink in the image (/var/run -> /run) resolves inside the image');
  t.like(trees[0]?.get('/srv/blob.bin'), { sha: sha256(blob) });
  t.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.')), []);
});
