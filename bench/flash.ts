// Flash benchmark at SD-card speed: a 1 GiB Pi-shaped image with about 110 MiB of data, its zero blocks turned into
// holes as unpacking a base does, written to a loop device that the kernel's blkio (v1) controller throttles to
// 40 MB/s writing and 90 MB/s reading, by `dd bs=4M conv=fsync`, `bmaptool copy` and `pikube flash`, in the same
// run. Also: the block map before (the file's FIEMAP extents, as `bmaptool create` makes them) and after
// (filesystem-aware), and pikube's start-up before its first write. Prints a markdown table.
import { randomBytes } from 'node:crypto';
import { mkdir, rm, rmdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { readBlockMap, countMappedBytes } from '../src/flash/block-map.ts';
import { flashImage } from '../src/flash/flash-image.ts';
import { writeBmap } from '../src/flash/write-bmap.ts';
import { setLogLevel } from '../src/log.ts';

const MiB = 1024 * 1024;
const WRITE_BPS = 40_000_000;
const READ_BPS = 90_000_000;
const root = fileURLToPath(new URL('..', import.meta.url));
const work = path.join(root, 'bench', 'work', 'flash');
const image = path.join(work, 'pi.img');
const pikube = path.join(root, 'bin', 'pikube.js');
const IMAGE_SIZE = 1024 * MiB;
const FAT_START = 8192 * 512;
const FAT_SIZE = 256 * MiB;
const EXT_START = FAT_START + FAT_SIZE;
const cgroup = `/sys/fs/cgroup/blkio/pikube-bench-flash-${process.pid}`;

// Wall time of one command run inside the throttling cgroup (the shell joins it, then becomes the command).
async function measure(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  const result = await execa('sh', ['-c', `echo $$ > ${cgroup}/cgroup.procs && exec "$@"`, 'sh', command, ...args], { all: true, reject: false });
  if (result.exitCode !== 0) throw new Error(`${command} failed:\n${result.all}`);
  return (performance.now() - started) / 1000;
}

// Seconds from starting `pikube flash --device` to its "==> writing" line (its first action on the card).
async function measureStartUp(args: string[], bin = pikube): Promise<number> {
  const started = performance.now();
  const child = execa('node', [bin, ...args], { all: true, reject: false });
  let seconds = Number.NaN;
  child.all?.on('data', (data: Buffer) => {
    if (Number.isNaN(seconds) && /==> writing|^\d/m.test(data.toString())) seconds = (performance.now() - started) / 1000;
  });
  const result = await child;
  if (result.exitCode !== 0) throw new Error(`pikube ${args.join(' ')} failed:\n${result.all}`);
  return Number.isNaN(seconds) ? (performance.now() - started) / 1000 : seconds;
}

async function makeImage(): Promise<void> {
  await execa('truncate', ['-s', String(IMAGE_SIZE), image]);
  await execa('sfdisk', ['-q', image], { input: `label: dos\nstart=8192, size=${FAT_SIZE / 512}, type=c, bootable\nstart=${EXT_START / 512}, type=83\n` });
  // pi-gen's own boot partition options: mkdosfs -n bootfs -F 32 -s 4.
  await execa('mkfs.vfat', ['-F', '32', '-s', '4', '-n', 'bootfs', '--offset', '8192', image, String(FAT_SIZE / 1024)]);
  await execa('mke2fs', ['-F', '-q', '-t', 'ext4', '-L', 'rootfs', '-E', `offset=${EXT_START}`, image, `${(IMAGE_SIZE - EXT_START) / 1024}k`]);
  // 20 MiB on the boot partition (kernel, firmware), 90 MiB on root in files of 1-10 MiB, with zero runs inside.
  for (let i = 0; i < 4; i++) {
    const file = path.join(work, `boot${i}.bin`);
    await writeFile(file, randomBytes(5 * MiB));
    await execa('mcopy', ['-i', `${image}@@${FAT_START}`, file, `::/boot${i}.bin`], { env: { MTOOLS_SKIP_CHECK: '1' } });
  }
  const commands: string[] = [];
  for (let i = 0; i < 18; i++) {
    const file = path.join(work, `root${i}.bin`);
    await writeFile(file, Buffer.concat([randomBytes(4 * MiB), Buffer.alloc(256 * 1024), randomBytes(MiB - 256 * 1024)]));
    commands.push(`write ${file} root${i}.bin`);
  }
  await writeFile(path.join(work, 'debugfs.cmd'), `${commands.join('\n')}\n`);
  await execa('debugfs', ['-w', '-f', path.join(work, 'debugfs.cmd'), `${image}?offset=${EXT_START}`]);
  await execa('fallocate', ['--dig-holes', image]);
  await execa('sh', ['-c', `rm -f ${work}/boot*.bin ${work}/root*.bin`]);
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  let loop = '';
  try {
    await makeImage();
    const bmapStart = performance.now();
    const after = await writeBmap(image, `${image}.bmap`);
    const bmapSeconds = (performance.now() - bmapStart) / 1000;
    const fiemapMap = path.join(work, 'fiemap.bmap');
    const createStart = performance.now();
    await execa('bmaptool', ['create', '-o', fiemapMap, image]);
    const createSeconds = (performance.now() - createStart) / 1000;
    const before = await readBlockMap(fiemapMap);
    const mapped = countMappedBytes(after);
    const mappedBefore = countMappedBytes(before);
    const backing = path.join(work, 'card.bin');
    await execa('truncate', ['-s', String(IMAGE_SIZE + 64 * MiB), backing]);
    loop = (await execa('losetup', ['-f', '--show', backing])).stdout.trim();
    const majMin = (await execa('lsblk', ['-dno', 'MAJ:MIN', loop])).stdout.trim();
    await mkdir(cgroup);
    await writeFile(`${cgroup}/blkio.throttle.write_bps_device`, `${majMin} ${WRITE_BPS}`);
    await writeFile(`${cgroup}/blkio.throttle.read_bps_device`, `${majMin} ${READ_BPS}`);
    await execa('cat', [image], { stdout: 'ignore' });

    const rounds = Number(process.env.ROUNDS ?? 3);
    const rows: { name: string; runs: number[] }[] = [
      { name: '`dd bs=4M conv=fsync` (every byte)', runs: [] },
      { name: '`bmaptool copy`, FIEMAP map (before: what `bmaptool create` and the old pikube map listed)', runs: [] },
      { name: '`bmaptool copy`, pikube\'s filesystem-aware map', runs: [] },
      { name: '`pikube flash` (filesystem-aware map, verify on)', runs: [] },
      { name: '`pikube flash --no-verify`', runs: [] },
      { name: '`flashImage()` in-process, verify on (the same write without the CLI\'s start-up)', runs: [] },
      { name: '`flashImage()` in-process, no verify', runs: [] },
    ];
    // The in-process rows run in this process, so it joins the throttled cgroup too (and leaves it at the end).
    const inProcess = async (verify: boolean) => {
      await writeFile(`${cgroup}/cgroup.procs`, String(process.pid));
      const started = performance.now();
      try {
        await flashImage({ imagePath: image, device: loop, yes: true, allowNonRemovable: true, powerOff: false, verify, onProgress: () => {} });
      } finally {
        await writeFile('/sys/fs/cgroup/blkio/cgroup.procs', String(process.pid));
      }
      return (performance.now() - started) / 1000;
    };
    setLogLevel('quiet');
    const flash = ['-q', 'flash', image, '--device', loop, '--yes', '--allow-non-removable'];
    for (let round = 0; round < rounds; round++) {
      rows[0]?.runs.push(await measure('dd', [`if=${image}`, `of=${loop}`, 'bs=4M', 'conv=fsync', 'status=none']));
      rows[1]?.runs.push(await measure('bmaptool', ['-q', 'copy', '--bmap', fiemapMap, image, loop]));
      rows[2]?.runs.push(await measure('bmaptool', ['-q', 'copy', '--bmap', `${image}.bmap`, image, loop]));
      rows[3]?.runs.push(await measure('node', [pikube, ...flash]));
      rows[4]?.runs.push(await measure('node', [pikube, ...flash, '--no-verify']));
      rows[5]?.runs.push(await inProcess(true));
      rows[6]?.runs.push(await inProcess(false));
    }
    // BASELINE_PIKUBE names another checkout's bin/pikube.js (the code before this change), measured in turn with this one.
    const baseline = process.env.BASELINE_PIKUBE;
    const startArgs = ['flash', image, '--device', loop, '--yes', '--allow-non-removable', '--no-verify'];
    const startUps: number[] = [];
    const baselineStartUps: number[] = [];
    const versions: number[] = [];
    for (let round = 0; round < 5; round++) {
      startUps.push(await measureStartUp(startArgs));
      if (baseline) baselineStartUps.push(await measureStartUp(startArgs, baseline));
      versions.push(await measureStartUp(['--version']));
    }

    const median = (runs: number[]) => runs.toSorted((a, b) => a - b)[Math.floor(runs.length / 2)] ?? 0;
    const dd = median(rows[0]?.runs ?? []);
    const limit = mapped / WRITE_BPS + mapped / READ_BPS;
    const writeOnly = mapped / WRITE_BPS;
    const lines = [
      `Load average before: ${loadBefore}. Image: 1 GiB, ${os.cpus().length} cores; target: loop device throttled by blkio to ${WRITE_BPS / 1e6} MB/s write, ${READ_BPS / 1e6} MB/s read; ${rounds} rounds (medians).`,
      `Mapped: before (FIEMAP) ${(mappedBefore / MiB).toFixed(1)} MiB, after (filesystem-aware) ${(mapped / MiB).toFixed(1)} MiB: +${((mapped - mappedBefore) / MiB).toFixed(1)} MiB (+${(((mapped - mappedBefore) * 100) / mappedBefore).toFixed(1)}%).`,
      `Making the map: pikube writeBmap ${bmapSeconds.toFixed(2)} s (filesystems read, mapped ranges hashed), \`bmaptool create\` ${createSeconds.toFixed(2)} s.`,
      `Physical limit for ${(mapped / MiB).toFixed(1)} MiB: write ${writeOnly.toFixed(2)} s, write + read back ${limit.toFixed(2)} s.`,
      `Start-up, \`pikube flash --device\` to its first write (median of 5): ${median(startUps).toFixed(2)} s${baseline ? ` (before this change: ${median(baselineStartUps).toFixed(2)} s)` : ''}; \`pikube --version\` ${median(versions).toFixed(2)} s.`,
      '',
      '| method | runs (s) | median (s) | vs dd | vs physical limit |',
      '|---|---|---|---|---|',
      ...rows.map((row, i) => {
        const bound = i === 3 || i === 5 ? limit : i === 0 ? IMAGE_SIZE / WRITE_BPS : i === 1 ? mappedBefore / WRITE_BPS : writeOnly;
        return `| ${row.name} | ${row.runs.map((r) => r.toFixed(2)).join(', ')} | ${median(row.runs).toFixed(2)} | ${(median(row.runs) / dd).toFixed(2)}x | ${(median(row.runs) / bound).toFixed(2)}x of ${bound.toFixed(2)} s |`;
      }),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await writeFile('/sys/fs/cgroup/blkio/cgroup.procs', String(process.pid)).catch(() => undefined);
    await rmdir(cgroup).catch(() => undefined);
    if (loop) await execa('losetup', ['-d', loop], { reject: false });
    if (!process.env.KEEP_WORK) await rm(work, { recursive: true, force: true });
  }
}

await main();
