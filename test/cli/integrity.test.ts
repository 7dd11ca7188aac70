import { link, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import test from 'ava';
import { execa } from 'execa';
import { makeLoopDevice, makeTestImage, MiB, readBytes } from '../flash/helpers.ts';
import { PIKUBE_BIN, runCli, startCli } from '../helpers/cli.ts';
import { makeBase, sha256 } from '../helpers/image.ts';
import { writeRecipe } from '../helpers/recipe.ts';
import { makeTempDir } from '../helpers/temp.ts';
import { writeClusterManifest } from '../../src/flash/cluster-manifest.ts';

const isRoot = process.getuid?.() === 0;

test('-o through a symlinked folder to the base is refused and the base is untouched', async (t) => {
  const { dir, base } = await makeBase(t);
  await mkdir(join(dir, 'bases'));
  const moved = join(dir, 'bases', 'base.img');
  await execa('mv', [base, moved]);
  await symlink('bases', join(dir, 'alias'));
  const before = sha256(await readFile(moved));
  const recipe = await writeRecipe(dir, { base: 'bases/base.img' });
  const result = await runCli(['build', '-c', recipe, '-o', join(dir, 'alias', 'base.img')]);
  t.is(result.exitCode, 1, result.stderr);
  t.regex(result.stderr, /the output \(-o\) \(.*alias\/base\.img\) is the base image .*both are .*bases\/base\.img/);
  t.regex(result.stderr, /hint: choose another output with -o/);
  t.is(sha256(await readFile(moved)), before);
  t.deepEqual((await readdir(join(dir, 'bases'))), ['base.img']);
});

test('-o naming a hard link of the base, or a side file naming a recipe source, is refused', async (t) => {
  const { dir, base } = await makeBase(t);
  await link(base, join(dir, 'same.img'));
  const recipe = await writeRecipe(dir, { base: 'base.img' });
  const hard = await runCli(['build', '-c', recipe, '-o', join(dir, 'same.img')]);
  t.is(hard.exitCode, 1, hard.stderr);
  t.regex(hard.stderr, /is the base image/);
  await writeFile(join(dir, 'out.img.bmap'), 'my notes');
  const sourced = await writeRecipe(dir, { base: 'base.img', files: [{ path: '/etc/notes', source: 'out.img.bmap' }] });
  const side = await runCli(['build', '-c', sourced, '-o', join(dir, 'out.img')]);
  t.is(side.exitCode, 1, side.stderr);
  t.regex(side.stderr, /the output's \.bmap file .* is files\[0\]\.source/);
  t.is(await readFile(join(dir, 'out.img.bmap'), 'utf8'), 'my notes');
  const inOverlay = await writeRecipe(dir, { base: 'base.img' }, { 'etc/motd': 'hi\n' });
  const nested = await runCli(['build', '-c', inOverlay, '-o', join(dir, 'overlay', 'out.img')]);
  t.is(nested.exitCode, 1, nested.stderr);
  t.regex(nested.stderr, /is inside the overlay folder/);
  t.deepEqual(await readdir(join(dir, 'overlay')), ['etc']);
});

test('-o naming an existing folder for a single image is the user\'s error (exit 1) with a hint', async (t) => {
  const { dir } = await makeBase(t);
  await mkdir(join(dir, 'images'));
  const recipe = await writeRecipe(dir, { base: 'base.img' });
  const result = await runCli(['build', '-c', recipe, '-o', join(dir, 'images')]);
  t.is(result.exitCode, 1, result.stderr);
  t.regex(result.stderr, /images is a folder, and this recipe builds one image file/);
  t.regex(result.stderr, /hint: name the image file: -o .*images\/pikube\.img/);
  t.deepEqual(await readdir(join(dir, 'images')), []);
  t.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.')), []);
});

test('a bad base is named as the user gave it, never as the temporary copy, raw or compressed', async (t) => {
  const dir = await makeTempDir(t);
  await writeFile(join(dir, 'notes.img'), 'just some text, not a disk image\n'.repeat(100));
  const raw = await runCli(['build', '-c', await writeRecipe(dir, { base: 'notes.img' }), '-o', join(dir, 'out.img')]);
  t.is(raw.exitCode, 1, raw.stderr);
  t.regex(raw.stderr, new RegExp(`${join(dir, 'notes.img')} has no partition table`));
  t.notRegex(raw.stderr, /\.out\.img\.pikube-|\/image\.img/);
  await execa('sh', ['-c', `gzip -c notes.img > notes.img.gz`], { cwd: dir });
  const packed = await runCli(['build', '-c', await writeRecipe(dir, { base: 'notes.img.gz' }), '-o', join(dir, 'out.img')]);
  t.is(packed.exitCode, 1, packed.stderr);
  t.regex(packed.stderr, new RegExp(`${join(dir, 'notes.img.gz')} has no partition table`));
  t.notRegex(packed.stderr, /\.out\.img\.pikube-|\/image\.img/);
  t.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.') || n.startsWith('out')), []);
});

test('flash refuses the image as its own target, through a symlink or a hard link, and its .bmap', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 64);
  const before = sha256(await readFile(image.path));
  await symlink(image.path, join(dir, 'alias.img'));
  await link(image.path, join(dir, 'hard.img'));
  await writeFile(`${image.path}.bmap`, '');
  const { writeBmap } = await import('../../src/flash/write-bmap.ts');
  await writeBmap(image.path, `${image.path}.bmap`);
  const bmap = await readFile(`${image.path}.bmap`);
  for (const target of [image.path, join(dir, 'alias.img'), join(dir, 'hard.img'), `${image.path}.bmap`]) {
    const result = await runCli(['flash', image.path, '--device', target]);
    t.is(result.exitCode, 1, `${target}: ${result.stderr}`);
    t.regex(result.stderr, /the target \(--device\) .* is (the image|its block map)/);
  }
  const unmapped = await runCli(['flash', image.path, '--no-bmap', '--device', `${image.path}.bmap`]);
  t.is(unmapped.exitCode, 1, unmapped.stderr);
  t.regex(unmapped.stderr, /is its block map/);
  t.is((await stat(image.path)).size, image.size);
  t.is(sha256(await readFile(image.path)), before);
  t.deepEqual(await readFile(`${image.path}.bmap`), bmap);
});

(isRoot ? test : test.skip)('flash refuses a loop device over the image, and the disk whose filesystem holds the image', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 64);
  const before = sha256(await readFile(image.path));
  const { stdout } = await execa('losetup', ['-f', '--show', image.path]);
  const overImage = stdout.trim();
  t.teardown(() => execa('losetup', ['-d', overImage], { reject: false }));
  const direct = await runCli(['flash', image.path, '--device', overImage, '--yes', '--allow-non-removable']);
  t.is(direct.exitCode, 1, direct.stderr);
  t.regex(direct.stderr, /is a loop device over the image/);
  t.is(sha256(await readFile(image.path)), before);

  const disk = await makeLoopDevice(t, dir, 96);
  await execa('sfdisk', ['-q', disk], { input: 'label: dos\nstart=2048, type=83\n' });
  await execa('partx', ['-a', disk], { reject: false });
  const partition = `${disk}p1`;
  await execa('mkfs.ext4', ['-q', '-F', partition]);
  const mountpoint = join(dir, 'mnt');
  await mkdir(mountpoint);
  await execa('mount', [partition, mountpoint]);
  t.teardown(() => execa('umount', [mountpoint], { reject: false }));
  const inside = join(mountpoint, 'pi.img');
  await execa('cp', ['--sparse=always', image.path, inside]);
  const head = await readBytes(disk, 0, MiB);
  const held = await runCli(['flash', inside, '--device', disk, '--yes', '--allow-non-removable']);
  t.is(held.exitCode, 1, held.stderr);
  t.regex(held.stderr, /holds the image .*is on a filesystem of that device/);
  t.deepEqual(await readBytes(disk, 0, MiB), head);
  t.is(sha256(await readFile(inside)), before);
});

(isRoot ? test : test.skip)('flash refuses a disk that holds the image through another image on a loop device, and a second loop over that image', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 64);
  const before = sha256(await readFile(image.path));
  const disk = await makeLoopDevice(t, dir, 128);
  await execa('mkfs.ext4', ['-q', '-F', disk]);
  const outer = join(dir, 'outer');
  await mkdir(outer);
  await execa('mount', [disk, outer]);
  t.teardown(() => execa('umount', [outer], { reject: false }));
  const store = join(outer, 'store.img');
  await execa('truncate', ['-s', '96M', store]);
  await execa('mkfs.ext4', ['-q', '-F', store]);
  const { stdout } = await execa('losetup', ['-f', '--show', store]);
  const stacked = stdout.trim();
  const inner = join(dir, 'inner');
  await mkdir(inner);
  await execa('mount', [stacked, inner]);
  t.teardown(async () => {
    await execa('umount', [inner], { reject: false });
    await execa('losetup', ['-d', stacked], { reject: false });
  });
  const inside = join(inner, 'pi.img');
  await execa('cp', ['--sparse=always', image.path, inside]);
  // ext4 never writes its first 1 KiB (the boot block), where a flash would put the image's partition table.
  const head = await readBytes(disk, 0, 1024);
  const deep = await runCli(['flash', inside, '--device', disk, '--yes', '--allow-non-removable']);
  t.is(deep.exitCode, 1, deep.stderr);
  t.regex(deep.stderr, new RegExp(`holds the image .*through a loop device over ${store}`));
  t.deepEqual(await readBytes(disk, 0, 1024), head);

  const second = (await execa('losetup', ['-f', '--show', store])).stdout.trim();
  t.teardown(() => execa('losetup', ['-d', second], { reject: false }));
  const twin = await runCli(['flash', inside, '--device', second, '--yes', '--allow-non-removable']);
  t.is(twin.exitCode, 1, twin.stderr);
  t.regex(twin.stderr, new RegExp(`is a loop device over ${store}, which holds the filesystem the image`));
  t.is(sha256(await readFile(inside)), before);
});

test('a damaged input (truncated or corrupted .xz, .gz, .zip, raw) is the user\'s error, exit 1, build and flash alike', async (t) => {
  const { dir, base } = await makeBase(t, { sizeMiB: 128 });
  await execa('xz', ['-k', '-T0', '-0', base]);
  await execa('gzip', ['-k', '-1', base]);
  await execa('zip', ['-q', '-j', '-1', join(dir, 'base.zip'), base]);
  const damaged: string[] = [];
  for (const packed of ['base.img.xz', 'base.img.gz', 'base.zip']) {
    const bytes = await readFile(join(dir, packed));
    await writeFile(join(dir, `cut-${packed}`), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const flipped = Buffer.from(bytes);
    for (let i = 0; i < 64; i++) {
      const at = Math.floor(bytes.length / 2) + i;
      flipped[at] = (flipped[at] ?? 0) ^ 0x5a;
    }
    await writeFile(join(dir, `bad-${packed}`), flipped);
    damaged.push(`cut-${packed}`, `bad-${packed}`);
  }
  await writeFile(join(dir, 'cut-base.img'), (await readFile(base)).subarray(0, 90 * MiB));
  damaged.push('cut-base.img');
  for (const name of damaged) {
    const recipe = await writeRecipe(dir, { base: name });
    const [built, flashed] = await Promise.all([
      runCli(['build', '-c', recipe, '-o', join(dir, 'out.img')]),
      runCli(['flash', join(dir, name), '--device', join(dir, 'card.img')]),
    ]);
    t.is(built.exitCode, 1, `build ${name}: ${built.stderr}`);
    t.regex(built.stderr, new RegExp(`${name.replaceAll('.', '\\.')}.*(not a readable (xz|gzip) file|not a readable zip archive|ends past the end of the file)`), name);
    t.regex(built.stderr, /hint: .*(download it again|download or decompress it again)/, name);
    t.is(flashed.exitCode, 1, `flash ${name}: ${flashed.stderr}`);
    t.regex(flashed.stderr, new RegExp(`${name.replaceAll('.', '\\.')} (is not a readable (xz file|gzip file|zip archive) \\(truncated or corrupt|is truncated: partition)`), name);
    t.regex(flashed.stderr, /hint: .*(download it again|get the image again)/, name);
  }
  t.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.') || n.startsWith('out')), []);
});

// In a network namespace of its own (loopback only), so the lookup cannot leave the machine.
(isRoot ? test : test.skip)('a DNS failure exits 2 (the network, not the input) with a hint, and sends nothing off the machine', async (t) => {
  const dir = await makeTempDir(t);
  const recipe = await writeRecipe(dir, { base: { source: 'https://images.pikube.invalid/pi.img.xz', sha256: 'ab'.repeat(32) } });
  const result = await execa('unshare', ['--net', 'node', PIKUBE_BIN, 'build', '-c', recipe, '-o', join(dir, 'out.img'), '--cache', join(dir, 'cache')], { reject: false, env: { NO_COLOR: '1' } });
  t.is(result.exitCode, 2, String(result.stderr));
  t.regex(String(result.stderr), /cannot resolve images\.pikube\.invalid \(DNS lookup failed/);
  t.regex(String(result.stderr), /hint: check the network connection and DNS, and the host name; without internet use --mirror URL, or --offline/);
  t.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.') || n.startsWith('out')), []);
});

// What pikube left in an isolated TMPDIR (tsx's own cache aside).
async function pikubeTemps(tmp: string): Promise<string[]> {
  return (await readdir(tmp)).filter((name) => name.startsWith('pikube-'));
}

test('a reader that closes stdout early (plan | head -2) leaves no temporary folder and exits quietly', async (t) => {
  const { dir } = await makeBase(t);
  const tmp = join(dir, 'tmp');
  await mkdir(tmp);
  const overlay: Record<string, string> = {};
  for (let i = 0; i < 2500; i++) overlay[`srv/a-file-with-a-rather-long-name-${i}.txt`] = `${i}\n`;
  const recipe = await writeRecipe(dir, { base: 'base.img', hostname: 'piped' }, overlay);
  const child = startCli(['plan', '-c', recipe, '--json'], { env: { TMPDIR: tmp } });
  const firstLines = await new Promise<string>((resolve) => {
    child.stdout?.once('data', (chunk: Buffer) => {
      child.stdout?.destroy();
      resolve(chunk.toString().split('\n').slice(0, 2).join('\n'));
    });
  });
  const result = await child;
  t.regex(firstLines, /^\{\n {2}"pikubeVersion"/);
  t.is(result.exitCode, 0, String(result.stderr));
  t.notRegex(String(result.stderr), /EPIPE|Unhandled|bug in pikube/);
  t.deepEqual(await pikubeTemps(tmp), []);
});

test('a build whose stdout and stderr are both closed from the start still finishes and cleans up', async (t) => {
  const { dir } = await makeBase(t);
  const tmp = join(dir, 'tmp');
  await mkdir(tmp);
  const recipe = await writeRecipe(dir, { base: 'base.img', hostname: 'closed' });
  const child = startCli(['build', '-c', recipe, '-o', join(dir, 'out.img')], { env: { TMPDIR: tmp } });
  child.stdout?.destroy();
  child.stderr?.destroy();
  const result = await child;
  t.is(result.exitCode, 0);
  t.true((await stat(join(dir, 'out.img'))).isFile());
  t.true((await stat(join(dir, 'out.img.sha256'))).isFile());
  t.deepEqual(await pikubeTemps(tmp), []);
});

test('a cluster folder that holds the base is refused before anything is replaced; flash --cluster refuses a card image as the target', async (t) => {
  const { dir, base } = await makeBase(t);
  const folder = join(dir, 'cards');
  await mkdir(folder);
  const card = (hostname: string, role: 'server' | 'agent') => ({ hostname, role, image: `${hostname}.img`, bmap: `${hostname}.img.bmap`, size: 8, mappedBytes: 8, digest: hostname, status: 'written' as const });
  await writeClusterManifest(folder, { cluster: { name: 'cards', id: 'cards-id' }, server: 'https://pi-1.local:6443', nodes: [card('pi-1', 'server'), card('pi-2', 'agent')] });
  await execa('mv', [base, join(folder, 'base.img')]);
  const before = sha256(await readFile(join(folder, 'base.img')));
  const recipe = await writeRecipe(dir, { base: 'cards/base.img', kubernetes: { distribution: 'k3s' }, cluster: { nodes: [{ hostname: 'pi-1', role: 'server' }, { hostname: 'pi-2' }] } });
  const built = await runCli(['build', '-c', recipe, '-o', join(dir, '.', 'cards')]);
  t.is(built.exitCode, 1, built.stderr);
  t.regex(built.stderr, /the base image \(.*cards\/base\.img\) is inside the cluster folder \(-o\)/);
  t.is(sha256(await readFile(join(folder, 'base.img'))), before);
  await writeFile(join(folder, 'pi-1.img'), 'card one');
  await writeFile(join(folder, 'pi-2.img'), 'card two');
  const flashed = await runCli(['flash', '--cluster', folder, '--device', join(folder, 'pi-2.img'), '--yes']);
  t.is(flashed.exitCode, 1, flashed.stderr);
  t.regex(flashed.stderr, /is the image of pi-2|is inside the cluster folder/);
  t.is(await readFile(join(folder, 'pi-2.img'), 'utf8'), 'card two');
});
