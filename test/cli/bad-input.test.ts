import { mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import test from 'ava';
import { execa } from 'execa';
import { runCli, startCli } from '../helpers/cli.ts';
import { makeBase, sha256 } from '../helpers/image.ts';
import { writeRecipe } from '../helpers/recipe.ts';
import { makeTempDir } from '../helpers/temp.ts';

const isRoot = process.getuid?.() === 0;

async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.startsWith('.') || name.endsWith('.tmp') || name === 'out.img' || name === 'out.img.sha256');
}

test('a missing base fails with exit 1, names the file and writes nothing', async (t) => {
  const dir = await makeTempDir(t);
  const recipe = await writeRecipe(dir, { base: 'nowhere.img' });
  const result = await runCli(['build', '-c', recipe, '-o', join(dir, 'out.img')]);
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /base image .*nowhere\.img does not exist/);
  t.regex(result.stderr, /hint: check the path; catalog names are: hypriot, raspios-lite-arm64/);
  t.deepEqual(await leftovers(dir), []);
});

test('a base that is not a disk image is refused clearly', async (t) => {
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'notes.img'), 'just some text, not a disk image\n'.repeat(100));
  const recipe = await writeRecipe(dir, { base: 'notes.img' });
  const result = await runCli(['build', '-c', recipe, '-o', join(dir, 'out.img')]);
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /has no partition table/);
  t.deepEqual(await leftovers(dir), []);
});

test('a truncated image (partition table pointing past the end) is refused', async (t) => {
  const { dir, base } = await makeBase(t);
  await truncate(base, 100 * 2 ** 20);
  const recipe = await writeRecipe(dir, { base: 'base.img' });
  const result = await runCli(['build', '-c', recipe, '-o', join(dir, 'out.img')]);
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /partition 2 .* ends past the end of the file/);
  t.deepEqual(await leftovers(dir), []);
});

test('a corrupt partition table (no FAT or ext4 where it points) is refused', async (t) => {
  const { dir, base } = await makeBase(t);
  await execa('sfdisk', ['--quiet', base], { input: 'label: dos\nstart=2048, size=4096, type=83\nstart=8192, size=4096, type=83\n' });
  const recipe = await writeRecipe(dir, { base: 'base.img' });
  const result = await runCli(['build', '-c', recipe, '-o', join(dir, 'out.img')]);
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /is not a Raspberry Pi style image: it needs a FAT boot partition and an ext4 root partition/);
});

test('a recipe with several errors lists them all, exit 1', async (t) => {
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'pikube.yaml'), 'base: b.img\nhostname: Not_Valid\nwifi: {ssid: x, psk: y, country: zz}\nfoo: 1\n');
  const result = await runCli(['plan'], { cwd: dir });
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /has 4 problems/);
  t.regex(result.stderr, /line 2: hostname:/);
  t.regex(result.stderr, /line 4: foo: unknown key/);
});

test('a missing disk tool is named with the package that provides it', async (t) => {
  const { dir } = await makeBase(t);
  const recipe = await writeRecipe(dir, { base: 'base.img' });
  const bin = join(dir, 'bin');
  await mkdir(bin);
  for (const tool of ['sfdisk', 'debugfs', 'dumpe2fs', 'e2fsck', 'resize2fs', 'node', 'dd', 'cp']) {
    const found = await execa('sh', ['-c', `command -v ${tool}`], { reject: false });
    if (found.exitCode === 0) await import('node:fs/promises').then((fs) => fs.symlink(String(found.stdout).trim(), join(bin, tool)));
  }
  const result = await runCli(['build', '-c', recipe, '-o', join(dir, 'out.img')], { env: { PATH: bin } });
  t.is(result.exitCode, 1, result.stderr);
  t.regex(result.stderr, /mcopy is not installed/);
  t.regex(result.stderr, /apt-get install mtools/);
  t.deepEqual(await leftovers(dir), []);
});

test('the file tree check: a planned file where the base has a folder is refused before writing', async (t) => {
  const { dir } = await makeBase(t);
  const recipe = await writeRecipe(dir, { base: 'base.img', files: [{ path: '/home', content: 'x' }] });
  const result = await runCli(['build', '-c', recipe, '-o', join(dir, 'out.img')]);
  t.is(result.exitCode, 1);
  t.regex(result.stderr, /files\[0\] wants a file at \/home, but the base image has a directory there/);
  t.deepEqual(await leftovers(dir), []);
});

(isRoot ? test : test.skip)('a full output disk fails with exit 2, says so, and leaves nothing behind', async (t) => {
  const { dir } = await makeBase(t);
  const full = join(dir, 'small');
  await mkdir(full);
  await execa('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', full]);
  t.teardown(() => execa('umount', [full], { reject: false }));
  const recipe = await writeRecipe(dir, { base: 'base.img' }, { 'srv/big.bin': Buffer.alloc(60 * 2 ** 20, 1) });
  const result = await runCli(['build', '-c', recipe, '-o', join(full, 'out.img')]);
  t.is(result.exitCode, 2, result.stderr);
  t.regex(result.stderr, /No space left on device|disk is full|ENOSPC/i);
  t.deepEqual(await readdir(full), []);
});

test('Ctrl-C in the middle of a build exits 130, removes the temporary image and keeps an older output', async (t) => {
  const { dir } = await makeBase(t, { sizeMiB: 400, rootMiB: 300 });
  const recipe = await writeRecipe(dir, { base: 'base.img' }, { 'srv/big.bin': Buffer.alloc(200 * 2 ** 20, 5) });
  const output = join(dir, 'out.img');
  await writeFile(output, 'previous output');
  const child = startCli(['build', '-c', recipe, '-o', output]);
  let seen = '';
  let sent = false;
  child.stderr?.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    if (seen.includes('writing the base image') && !sent) {
      sent = true;
      setTimeout(() => child.kill('SIGINT'), 150);
    }
  });
  const result = await child;
  t.is(result.exitCode, 130, String(result.stderr));
  t.regex(String(result.stderr), /interrupted/);
  t.is(await readFile(output, 'utf8'), 'previous output');
  t.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.')), []);
});

test('plan prints every entry and touches nothing', async (t) => {
  const { dir, base } = await makeBase(t);
  const before = sha256(await readFile(base));
  const mtime = (await stat(base)).mtimeMs;
  const recipe = await writeRecipe(dir, { base: 'base.img', hostname: 'planned', files: [{ path: '/etc/motd', content: 'x\n' }, { path: '/a/link', symlink: '/etc/motd' }] });
  const human = await runCli(['plan', '-c', recipe]);
  t.is(human.exitCode, 0, human.stderr);
  t.regex(human.stdout, /file +0644 +0:0 +\/etc\/motd +\(2 B\) +<- files\[0\]/);
  t.regex(human.stdout, /symlink +0777 +0:0 +\/a\/link -> \/etc\/motd/);
  t.regex(human.stdout, /file +0644 +0:0 +\/user-data/);
  const json = JSON.parse((await runCli(['plan', '-c', recipe, '--json'])).stdout) as { entries: Array<{ path: string; partition: string }>; growth: unknown };
  t.true(json.entries.some((e) => e.path === '/etc/pikube/build.json' && e.partition === 'root'));
  t.is(json.growth, null);
  t.is(sha256(await readFile(base)), before);
  t.is((await stat(base)).mtimeMs, mtime);
  t.deepEqual((await readdir(dir)).sort(), ['base.img', 'pikube.yaml']);
});

test('doctor lists every tool with its package and --version prints the version', async (t) => {
  const doctor = await runCli(['doctor']);
  t.is(doctor.exitCode, 0, doctor.stdout);
  t.regex(doctor.stdout, /ok +debugfs +1\.\d+/);
  t.regex(doctor.stdout, /apt: mtools +brew: mtools/);
  t.is((await runCli(['--version'])).stdout.trim(), '0.1.0');
  const unknown = await runCli(['bild']);
  t.is(unknown.exitCode, 1);
});
