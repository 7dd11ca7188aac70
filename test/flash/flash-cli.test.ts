import { chmod, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { execa } from 'execa';
import { writeBmap } from '../../src/flash/write-bmap.ts';
import { makeLoopDevice, makeTempDir, makeTestImage, MiB, readBytes } from './helpers.ts';

const pikube = fileURLToPath(new URL('../../bin/pikube.js', import.meta.url));

test('pikube flash writes an image to a file, finding IMAGE.bmap next to it', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 64);
  await writeBmap(image.path, `${image.path}.bmap`);
  const out = path.join(dir, 'card.img');
  const run = await execa('node', [pikube, 'flash', image.path, '--device', out], { reject: false, all: true });
  t.is(run.exitCode, 0, run.all);
  t.regex(run.all ?? '', /using .*pi\.img\.bmap/);
  t.regex(run.all ?? '', /read back and verified/);
  t.true((await readFile(out)).equals(await readFile(image.path)));
});

test('pikube flash refuses a non-removable drive and a too-small one, and leaves them untouched', async (t) => {
  const dir = await makeTempDir(t);
  const image = await makeTestImage(dir, 64);
  const fixed = await makeLoopDevice(t, dir, 96);
  const refused = await execa('node', [pikube, 'flash', image.path, '--device', fixed, '--yes'], { reject: false, all: true });
  t.is(refused.exitCode, 1, refused.all);
  t.regex(refused.all ?? '', /is not a removable drive/);
  t.regex(refused.all ?? '', /--allow-non-removable/);
  const small = await makeLoopDevice(t, dir, 32);
  const tooSmall = await execa('node', [pikube, 'flash', image.path, '--device', small, '--yes', '--allow-non-removable'], { reject: false, all: true });
  t.is(tooSmall.exitCode, 1, tooSmall.all);
  t.regex(tooSmall.all ?? '', /does not fit on/);
  t.true((await readBytes(fixed, 0, MiB)).equals(Buffer.alloc(MiB, 0xa5)));
  t.true((await readBytes(small, 0, MiB)).equals(Buffer.alloc(MiB, 0xa5)));
});

test('without root, pikube flash says to use sudo before touching the device', async (t) => {
  const dir = await makeTempDir(t);
  await chmod(dir, 0o755);
  const image = await makeTestImage(dir, 64);
  await chmod(image.path, 0o644);
  const device = await makeLoopDevice(t, dir, 64);
  const run = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', pikube, 'flash', image.path, '--device', device, '--yes', '--allow-non-removable'],
    { reject: false, all: true, cwd: dir });
  t.is(run.exitCode, 1, run.all);
  t.regex(run.all ?? '', new RegExp(`writing to ${device} needs root`));
  t.regex(run.all ?? '', /hint: run it with sudo: sudo pikube flash /);
  t.true((await readBytes(device, 0, MiB)).equals(Buffer.alloc(MiB, 0xa5)));
});

test('Ctrl-C during pikube flash stops, exits 130 and says the card is incomplete', async (t) => {
  const dir = await makeTempDir(t);
  const image = path.join(dir, 'big.img');
  await execa('truncate', ['-s', '3G', image]);
  await execa('sfdisk', ['-q', image], { input: 'label: dos\nstart=2048, type=83\n' });
  const out = path.join(dir, 'card.img');
  const child = execa('node', [pikube, 'flash', image, '--device', out, '--no-bmap'], { reject: false, all: true });
  let seen = '';
  await new Promise<void>((resolve) => {
    child.all?.on('data', (data: Buffer) => {
      seen += data.toString();
      if (/written [1-9]\d* MiB/.test(seen)) resolve();
    });
    void child.then(() => resolve());
  });
  child.kill('SIGINT');
  const run = await child;
  t.is(run.exitCode, 130, run.all);
  t.regex(run.all ?? '', /stopped: .*card\.img is incomplete and will not boot/);
  t.true((await readBytes(out, 0, MiB)).equals(Buffer.alloc(MiB)), 'no partition table was written');
});

test('pikube drives --json lists drives with the documented fields', async (t) => {
  const run = await execa('node', [pikube, 'drives', '--json']);
  const drives = JSON.parse(run.stdout) as Record<string, unknown>[];
  t.true(Array.isArray(drives));
  for (const drive of drives) t.deepEqual(Object.keys(drive).sort(), ['bus', 'device', 'model', 'mountpoints', 'removable', 'size', 'system']);
  const root = drives.find((d) => (d.mountpoints as string[]).includes('/'));
  if (root) t.true(root.system as boolean, 'the drive holding / is marked system');
});
