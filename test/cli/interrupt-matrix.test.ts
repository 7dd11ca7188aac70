// The interrupt matrix: SIGINT once, SIGINT twice (and thrice), and SIGTERM at several points of a build (both
// backends) and of a flash to a loop device made here. After each run nothing may be left: no loop device over
// the run's files, no mount, no temporary folder (TMPDIR is the run's own), no partial output, the older output
// intact. Exit codes: 130 after SIGINT, 143 after SIGTERM (128 + the signal's number, as shells report them).
// Ctrl-C is sent as a terminal sends it: to the whole process group, tools pikube is running included.
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import anyTest, { type TestFn } from 'ava';
import { execa } from 'execa';
import { makeLoopDevice, makeTempDir as makeFlashDir, MiB, readBytes } from '../flash/helpers.ts';
import { PIKUBE_BIN } from '../helpers/cli.ts';
import { makeDemoBase } from '../../examples/make-demo-base.ts';
import { writeRecipe } from '../helpers/recipe.ts';
import { makeTempDir } from '../helpers/temp.ts';

const test = anyTest as TestFn<{ base: string }>;
const isRoot = process.getuid?.() === 0;
const rootTest = isRoot ? test.serial : test.serial.skip;

type Pattern = 'INT' | 'INT INT' | 'INT INT INT' | 'TERM';
// Each point is a line pikube prints with -v just as that stage starts.
const BUILD_POINTS = {
  unpack: /\$ cp --sparse/,
  grow: /\$ (e2fsck -fy|resize2fs)|growing the root partition/,
  write: /writing \d+ boot entries and \d+ root entries/,
  // The mount backend's writes begin once the partition is mounted.
  mounted: /\$ mount -t ext4/,
  fsck: /checking both filesystems/,
  hash: /hashing the image and making its block map/,
} as const;

test.before(async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pikube-interrupt-base-'));
  t.context.base = join(dir, 'base.img');
  await makeDemoBase({ path: t.context.base, sizeMiB: 300, rootMiB: 200 });
});
test.after.always(async (t) => {
  if (t.context.base) await rm(dirname(t.context.base), { recursive: true, force: true });
});

// Loop devices whose backing file lies under `dir`: only those this run could have made.
async function loopsUnder(dir: string): Promise<string[]> {
  const { stdout } = await execa('losetup', ['--list', '--noheadings', '--output', 'NAME,BACK-FILE'], { reject: false });
  return String(stdout).split('\n').filter((line) => line.includes(dir));
}

async function mountsUnder(dir: string): Promise<string[]> {
  return (await readFile('/proc/self/mounts', 'utf8')).split('\n').filter((line) => line.includes(dir));
}

// Runs pikube in a process group of its own, sends `pattern` once `point` shows on stderr, and waits (bounded).
async function interruptAt(args: string[], env: Record<string, string>, point: RegExp, pattern: Pattern): Promise<{ exitCode: number; stderr: string; sent: boolean }> {
  const child = execa('node', [PIKUBE_BIN, '-v', ...args], { reject: false, detached: true, env: { NO_COLOR: '1', ...env }, stdin: 'ignore' });
  const pid = child.pid as number;
  let stderr = '';
  let sent = false;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (sent || !point.test(stderr)) return;
    sent = true;
    const signals = pattern.split(' ');
    signals.forEach((name, i) => setTimeout(() => {
      // Ctrl-C reaches the whole foreground group; SIGTERM is what `kill PID` and service managers send to pikube.
      try {
        process.kill(name === 'INT' ? -pid : pid, `SIG${name}`);
      } catch {
        // Already gone: nothing left to interrupt.
      }
    }, i * 40));
  });
  const deadline = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }, 120_000);
  const result = await child;
  clearTimeout(deadline);
  return { exitCode: result.exitCode ?? -1, stderr, sent };
}

function expectedExit(pattern: Pattern): number {
  return pattern === 'TERM' ? 143 : 130;
}

const BUILD_CASES: Array<{ backend: 'debugfs' | 'mount'; point: keyof typeof BUILD_POINTS; pattern: Pattern }> = [
  { backend: 'debugfs', point: 'unpack', pattern: 'INT' },
  { backend: 'debugfs', point: 'write', pattern: 'INT INT' },
  { backend: 'debugfs', point: 'fsck', pattern: 'TERM' },
  { backend: 'debugfs', point: 'hash', pattern: 'INT' },
  { backend: 'mount', point: 'grow', pattern: 'INT INT' },
  { backend: 'mount', point: 'mounted', pattern: 'INT' },
  { backend: 'mount', point: 'mounted', pattern: 'INT INT' },
  { backend: 'mount', point: 'mounted', pattern: 'INT INT INT' },
  { backend: 'mount', point: 'mounted', pattern: 'TERM' },
  { backend: 'mount', point: 'hash', pattern: 'INT INT' },
];

for (const { backend, point, pattern } of BUILD_CASES) {
  rootTest(`build --backend ${backend}: SIG${pattern.replaceAll(' ', ' + SIG')} during ${point} leaves nothing behind and keeps the older output`, async (t) => {
    const dir = await makeTempDir(t, 'pikube-interrupt-');
    const tmp = join(dir, 'tmp');
    await mkdir(tmp);
    await cp(t.context.base, join(dir, 'base.img'));
    const recipe = await writeRecipe(dir, { base: 'base.img', hostname: 'stopped' }, { 'srv/big.bin': Buffer.alloc(150 * 2 ** 20, 7) });
    const output = join(dir, 'out.img');
    await writeFile(output, 'previous output');
    const run = await interruptAt(['build', '-c', recipe, '-o', output, '--backend', backend], { TMPDIR: tmp }, BUILD_POINTS[point], pattern);
    t.true(run.sent, `the point was never reached:\n${run.stderr}`);
    t.is(run.exitCode, expectedExit(pattern), run.stderr);
    t.regex(run.stderr, /interrupted/);
    t.log(/forced exit/.test(run.stderr) ? 'forced exit' : 'released normally');
    t.deepEqual(await loopsUnder(dir), []);
    t.deepEqual(await mountsUnder(dir), []);
    t.deepEqual((await readdir(tmp)).filter((name) => name.startsWith('pikube-')), []);
    t.deepEqual((await readdir(dir)).filter((name) => name.startsWith('.') || name.startsWith('out.img.')), []);
    t.is(await readFile(output, 'utf8'), 'previous output');
  });
}

const FLASH_CASES: Array<{ point: 'writing' | 'verifying'; pattern: Pattern }> = [
  { point: 'writing', pattern: 'INT' },
  { point: 'writing', pattern: 'INT INT' },
  { point: 'verifying', pattern: 'TERM' },
];

for (const { point, pattern } of FLASH_CASES) {
  rootTest(`flash to a loop device: SIG${pattern.replaceAll(' ', ' + SIG')} while ${point} stops with no table written and nothing left`, async (t) => {
    const dir = await makeFlashDir(t);
    const tmp = join(dir, 'tmp');
    await mkdir(tmp);
    const image = join(dir, 'big.img');
    await execa('truncate', ['-s', '400M', image]);
    await execa('sfdisk', ['-q', image], { input: 'label: dos\nstart=2048, type=83\n' });
    const device = await makeLoopDevice(t, dir, 400);
    const before = await loopsUnder(dir);
    const marker = point === 'writing' ? /written [1-9]\d* MiB/ : /verified [1-9]\d* MiB/;
    const run = await interruptAt(['flash', image, '--device', device, '--no-bmap', '--yes', '--allow-non-removable'], { TMPDIR: tmp }, marker, pattern);
    t.true(run.sent, `the point was never reached:\n${run.stderr}`);
    t.is(run.exitCode, expectedExit(pattern), run.stderr);
    t.regex(run.stderr, /is incomplete and will not boot/);
    // The first megabyte is cleared before anything else and written last: the old table is gone, the new one absent.
    t.true((await readBytes(device, 0, MiB)).equals(Buffer.alloc(MiB)), 'no partition table was written');
    t.true((await readBytes(device, 399 * MiB, MiB)).equals(Buffer.alloc(MiB, 0xa5)), 'the write stopped before the end');
    t.deepEqual(await loopsUnder(dir), before);
    t.deepEqual(await mountsUnder(dir), []);
    t.deepEqual((await readdir(tmp)).filter((name) => name.startsWith('pikube-')), []);
  });
}
