import { chmod, readdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { execa } from 'execa';
import { parse } from 'yaml';
import { readLayout } from '../../src/image/read-facts.ts';
import { runCli } from '../helpers/cli.ts';
import { checkFilesystems, makeBase, readBootFile, readRootFile, sha256, statInImage } from '../helpers/image.ts';
import { writeRecipe, TEST_SSH_KEY } from '../helpers/recipe.ts';

const KEY = TEST_SSH_KEY;

test('build writes files, folders, symlinks, modes and owners into both partitions and leaves them clean', async (t) => {
  const { dir, base } = await makeBase(t);
  const big = Buffer.alloc(3 * 2 ** 20 + 123, 7);
  const recipe = await writeRecipe(dir, {
    base: 'base.img',
    hostname: 'pi-one',
    user: { name: 'pirate', passwordHash: '$6$salt$abcdefghijklmnopqrstuv', sshAuthorizedKeys: [KEY] },
    files: [
      { path: '/etc/hostname', content: 'replaced\n' },
      { path: '/opt/a/b/c/d/deep.txt', content: 'deep\n', mode: '0640', owner: 'pirate:video' },
      { path: '/usr/local/bin/tool', source: 'tool.sh', mode: '0755' },
      { path: '/usr/local/bin/tool-link', symlink: 'tool' },
      { path: '/etc/os-release', content: 'PRETTY_NAME="replaced symlink"\n' },
      { partition: 'boot', path: '/cmdline.txt', content: 'console=tty1 root=PARTUUID=5452574f-02 rootwait\n' },
      { partition: 'boot', path: '/nested/dir/file.txt', content: 'fat\n' },
    ],
  }, { 'var/lib/big.bin': big, 'etc/pikube.d/conf': 'x=1\n', 'boot/overlay.txt': 'on boot\n' });
  await import('node:fs/promises').then((fs) => fs.writeFile(join(dir, 'tool.sh'), '#!/bin/sh\necho tool\n'));
  const before = await readLayout(base);
  const output = join(dir, 'out.img');
  const result = await runCli(['build', '-c', recipe, '-o', output]);
  t.is(result.exitCode, 0, result.stderr);
  t.is(result.stdout.trim(), output);

  const stats = await statInImage(output, ['/etc/hostname', '/opt/a/b/c/d/deep.txt', '/opt/a/b/c/d', '/usr/local/bin/tool', '/usr/local/bin/tool-link', '/etc/os-release', '/var/lib/big.bin', '/etc', '/etc/pikube/build.json']);
  t.like(stats.get('/opt/a/b/c/d/deep.txt'), { type: 'regular', mode: 0o640, uid: 1000, gid: 44, size: 5 });
  t.like(stats.get('/opt/a/b/c/d'), { type: 'directory', mode: 0o755, uid: 0, gid: 0 });
  t.like(stats.get('/usr/local/bin/tool'), { type: 'regular', mode: 0o755 });
  t.like(stats.get('/usr/local/bin/tool-link'), { type: 'symlink', linkTarget: 'tool' });
  t.like(stats.get('/etc/os-release'), { type: 'regular' }, 'a symlink in the base is replaced by the planned file');
  t.like(stats.get('/etc'), { type: 'directory', mode: 0o755 }, 'an existing folder keeps its mode');
  t.like(stats.get('/var/lib/big.bin'), { type: 'regular', size: big.length });
  t.is((await readRootFile(output, '/etc/hostname', dir))?.toString(), 'replaced\n');
  t.is(sha256((await readRootFile(output, '/var/lib/big.bin', dir)) ?? ''), sha256(big));
  t.is((await readRootFile(output, '/usr/local/bin/tool', dir))?.toString(), '#!/bin/sh\necho tool\n');

  t.is(await readBootFile(output, '/cmdline.txt'), 'console=tty1 root=PARTUUID=5452574f-02 rootwait\n');
  t.is(await readBootFile(output, '/nested/dir/file.txt'), 'fat\n');
  t.is(await readBootFile(output, '/overlay.txt'), 'on boot\n');
  const userData = await readBootFile(output, '/user-data');
  t.true(userData?.startsWith('#cloud-config\n'));
  t.regex(userData ?? '', /hostname: pi-one/);
  t.deepEqual((parse(userData ?? '') as { users?: Array<{ ssh_authorized_keys?: string[] }> }).users?.[0]?.ssh_authorized_keys, [KEY]);

  const record = JSON.parse((await readRootFile(output, '/etc/pikube/build.json', dir))?.toString() ?? '{}') as { inputs: Array<{ role: string; sha256: string }>; identity?: unknown };
  t.is(record.inputs.find((i) => i.role === 'base')?.sha256, sha256(await readFile(base)));
  t.deepEqual(record.identity, { hostname: 'pi-one', user: 'pirate', sshAuthorizedKeys: 1 }, 'boot-test reads whom to log in as from the record');
  t.is(record.inputs.find((i) => i.role === 'files[2]')?.sha256, sha256('#!/bin/sh\necho tool\n'));

  const after = await readLayout(output);
  t.is(after.table.id, before.table.id);
  t.deepEqual(after.partitions.map((p) => p.partuuid), before.partitions.map((p) => p.partuuid));
  const fsck = await checkFilesystems(output, dir);
  t.is(fsck.ext, 0, fsck.output);
  t.is(fsck.fat, 0, fsck.output);
  t.is(await readFile(`${output}.sha256`, 'utf8'), `${sha256(await readFile(output))}  out.img\n`);
  const copy = join(dir, 'bmap-copy.img');
  const bmap = await execa('bmaptool', ['copy', '--bmap', `${output}.bmap`, output, copy], { reject: false });
  t.is(bmap.exitCode, 0, String(bmap.stderr));
  t.is(sha256(await readFile(copy)), sha256(await readFile(output)), 'bmaptool writes the image exactly from the build\'s block map');
  await import('node:fs/promises').then((fs) => fs.rm(copy));
  t.deepEqual((await readdir(dir)).filter((n) => n.includes('.tmp') || n.startsWith('.pikube')), []);
});

test('a second build over the first output replaces it and keeps the filesystems clean', async (t) => {
  const { dir } = await makeBase(t);
  const recipe = await writeRecipe(dir, { base: 'base.img', files: [{ path: '/etc/motd', content: 'one\n' }] });
  const output = join(dir, 'out.img');
  t.is((await runCli(['build', '-c', recipe, '-o', output])).exitCode, 0);
  const second = await runCli(['build', '-c', recipe, '-o', output, '--base', output]);
  t.is(second.exitCode, 1, 'the base may not be the output');
  t.regex(second.stderr, /the output \(-o\) \(.*out\.img\) is the base image/);
  const copy = join(dir, 'again.img');
  t.is((await runCli(['build', '-c', recipe, '-o', copy, '--base', output])).exitCode, 0, 'building on an already built image works');
  t.is((await readRootFile(copy, '/etc/motd', dir))?.toString(), 'one\n');
  const fsck = await checkFilesystems(copy, dir);
  t.is(fsck.ext + fsck.fat, 0, fsck.output);
});

test('the root partition grows when the payload does not fit, keeping PARTUUIDs and data', async (t) => {
  const { dir, base } = await makeBase(t, { sizeMiB: 160, rootMiB: 80 });
  const payload = Buffer.alloc(100 * 2 ** 20);
  for (let i = 0; i < payload.length; i += 4096) payload.writeUInt32LE(i, i);
  const recipe = await writeRecipe(dir, { base: 'base.img' }, { 'srv/payload.bin': payload });
  const output = join(dir, 'grown.img');
  const plan = await runCli(['plan', '-c', recipe, '--json']);
  t.is(plan.exitCode, 0, plan.stderr);
  const planned = JSON.parse(plan.stdout) as { growth: { partition: number; toBytes: number } | null };
  t.is(planned.growth?.partition, 2);
  const result = await runCli(['build', '-c', recipe, '-o', output]);
  t.is(result.exitCode, 0, result.stderr);
  t.regex(result.stderr, /growing the root partition/);
  const before = await readLayout(base);
  const after = await readLayout(output);
  t.true(after.root.size > before.root.size);
  t.is(after.root.start, before.root.start);
  t.deepEqual(after.partitions.map((p) => p.partuuid), before.partitions.map((p) => p.partuuid));
  t.is(sha256((await readRootFile(output, '/srv/payload.bin', dir)) ?? ''), sha256(payload));
  t.is((await readRootFile(output, '/etc/passwd', dir))?.toString().split('\n')[0], 'root:x:0:0:root:/root:/bin/bash', 'base files survive the resize');
  const fsck = await checkFilesystems(output, dir);
  t.is(fsck.ext + fsck.fat, 0, fsck.output);
});

test('the same recipe and inputs with SOURCE_DATE_EPOCH give a byte-identical image', async (t) => {
  const { dir } = await makeBase(t);
  const recipe = await writeRecipe(dir, {
    base: 'base.img', hostname: 'same', user: { name: 'pirate', password: 'secret-pass', sshAuthorizedKeys: [KEY] },
    files: [{ path: '/etc/motd', content: 'hi\n' }, { partition: 'boot', path: '/extra/x.txt', content: 'x\n' }],
  }, { 'usr/local/share/data.bin': Buffer.alloc(300_000, 3) });
  const env = { SOURCE_DATE_EPOCH: '1700000000' };
  const first = await runCli(['build', '-c', recipe, '-o', join(dir, 'a.img')], { env });
  t.is(first.exitCode, 0, first.stderr);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const second = await runCli(['build', '-c', recipe, '-o', join(dir, 'b.img')], { env });
  t.is(second.exitCode, 0, second.stderr);
  t.is(sha256(await readFile(join(dir, 'a.img'))), sha256(await readFile(join(dir, 'b.img'))));
  const unpinned = await runCli(['build', '-c', recipe, '-o', join(dir, 'c.img')]);
  t.is(unpinned.exitCode, 0);
  t.not(sha256(await readFile(join(dir, 'a.img'))), sha256(await readFile(join(dir, 'c.img'))), 'without SOURCE_DATE_EPOCH the instance-id and times differ');
});

test('an overlay symlink and executable keep their kind and mode', async (t) => {
  const { dir } = await makeBase(t);
  const recipe = await writeRecipe(dir, { base: 'base.img' }, { 'usr/local/bin/run.sh': '#!/bin/sh\n' });
  await chmod(join(dir, 'overlay/usr/local/bin/run.sh'), 0o750);
  await symlink('/usr/local/bin/run.sh', join(dir, 'overlay/usr/local/bin/run'));
  const output = join(dir, 'out.img');
  t.is((await runCli(['build', '-c', recipe, '-o', output])).exitCode, 0);
  const stats = await statInImage(output, ['/usr/local/bin/run.sh', '/usr/local/bin/run']);
  t.like(stats.get('/usr/local/bin/run.sh'), { mode: 0o750, uid: 0, gid: 0 });
  t.like(stats.get('/usr/local/bin/run'), { type: 'symlink', linkTarget: '/usr/local/bin/run.sh' });
});
