// Flash benchmark: a 2 GiB image about 40% data written to a loop device by `dd bs=4M conv=fsync`,
// `bmaptool copy` and `pikube flash` (with its read-back verification), in the same run. Prints a markdown table.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { flashImage } from '../src/flash/flash-image.ts';
import { setLogLevel } from '../src/log.ts';
import { writeBmap } from '../src/flash/write-bmap.ts';

const MiB = 1024 * 1024;
const root = fileURLToPath(new URL('..', import.meta.url));
const work = path.join(root, 'bench', 'work', 'flash');
const image = path.join(work, 'pi.img');
const pikube = path.join(root, 'bin', 'pikube.js');
const IMAGE_SIZE = 2048 * MiB;
const FAT_START = 2048 * 512;
const FAT_SIZE = 256 * MiB;
const EXT_START = FAT_START + FAT_SIZE;

interface Measure { seconds: number; rssMiB: number }

// Wall time and peak RSS of one command, from GNU time.
async function measure(command: string, args: string[]): Promise<Measure> {
  const result = await execa('/usr/bin/time', ['-f', 'TIME %e %M', command, ...args], { all: true, reject: false });
  if (result.exitCode !== 0) throw new Error(`${command} failed:\n${result.all}`);
  const match = /TIME ([\d.]+) (\d+)/.exec(result.all ?? '');
  return { seconds: Number(match?.[1]), rssMiB: Number(match?.[2]) / 1024 };
}

async function makeImage(): Promise<void> {
  await execa('truncate', ['-s', String(IMAGE_SIZE), image]);
  await execa('sfdisk', ['-q', image], { input: `label: dos\nstart=2048, size=${FAT_SIZE / 512}, type=c, bootable\nstart=${EXT_START / 512}, type=83\n` });
  await execa('mkfs.vfat', ['-s', '4', '-F', '32', '-n', 'BOOT', '--offset', '2048', image, String(FAT_SIZE / 1024)]);
  await execa('mke2fs', ['-F', '-q', '-t', 'ext4', '-L', 'root', '-E', `offset=${EXT_START}`, image, `${(IMAGE_SIZE - EXT_START) / 1024}k`]);
  const commands: string[] = [];
  for (let i = 0; i < 7; i++) {
    const file = path.join(work, `data${i}.bin`);
    await execa('dd', ['if=/dev/urandom', `of=${file}`, 'bs=1M', 'count=110', 'iflag=fullblock', 'status=none']);
    if (i === 0) await execa('mcopy', ['-i', `${image}@@${FAT_START}`, file, '::/data0.bin']);
    else commands.push(`write ${file} data${i}.bin`);
  }
  await writeFile(path.join(work, 'debugfs.cmd'), `${commands.join('\n')}\n`);
  await execa('debugfs', ['-w', '-f', path.join(work, 'debugfs.cmd'), `${image}?offset=${EXT_START}`]);
  for (let i = 0; i < 7; i++) await rm(path.join(work, `data${i}.bin`));
}

async function main(): Promise<void> {
  setLogLevel('quiet');
  const loadBefore = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  await rm(path.join(work, 'pi.img'), { force: true });
  await mkdir(work, { recursive: true });
  let loop = '';
  try {
    await makeImage();
    const bmapStart = performance.now();
    const map = await writeBmap(image, `${image}.bmap`);
    const bmapSeconds = (performance.now() - bmapStart) / 1000;
    const bmaptoolCreate = await measure('bmaptool', ['create', '-o', path.join(work, 'bmaptool.bmap'), image]);
    const mapped = map.ranges.reduce((sum, r) => sum + r.end - r.start, 0);
    const backing = path.join(work, 'card.bin');
    await execa('truncate', ['-s', String(IMAGE_SIZE + 256 * MiB), backing]);
    loop = (await execa('losetup', ['-f', '--show', backing])).stdout.trim();
    await execa('cat', [image], { stdout: 'ignore' });

    const rounds = Number(process.env.ROUNDS ?? 5);
    const rows: { name: string; runs: Measure[] }[] = [
      { name: '`dd bs=4M conv=fsync`', runs: [] },
      { name: '`bmaptool copy` (pikube\'s .bmap)', runs: [] },
      { name: '`pikube flash` (bmap, verify on)', runs: [] },
      { name: '`pikube flash --no-verify`', runs: [] },
      { name: '`flashImage()` in-process (verify on, no CLI start-up)', runs: [] },
    ];
    for (let round = 0; round < rounds; round++) {
      rows[0]?.runs.push(await measure('dd', [`if=${image}`, `of=${loop}`, 'bs=4M', 'conv=fsync', 'status=none']));
      rows[1]?.runs.push(await measure('bmaptool', ['-q', 'copy', '--bmap', `${image}.bmap`, image, loop]));
      rows[2]?.runs.push(await measure('node', [pikube, '-q', 'flash', image, '--device', loop, '--yes', '--allow-non-removable']));
      rows[3]?.runs.push(await measure('node', [pikube, '-q', 'flash', image, '--device', loop, '--yes', '--allow-non-removable', '--no-verify']));
      const started = performance.now();
      await flashImage({ imagePath: image, device: loop, yes: true, allowNonRemovable: true, powerOff: false, onProgress: () => {} });
      rows[4]?.runs.push({ seconds: (performance.now() - started) / 1000, rssMiB: Number.NaN });
    }
    const cmp = await execa('cmp', ['-n', String(IMAGE_SIZE), image, loop], { reject: false });
    const best = (runs: Measure[]) => Math.min(...runs.map((r) => r.seconds));
    const median = (runs: Measure[]) => runs.map((r) => r.seconds).toSorted((a, b) => a - b)[Math.floor(runs.length / 2)] ?? 0;
    const dd = median(rows[0]?.runs ?? []);
    const lines = [
      `Load average before: ${loadBefore}. Image: 2 GiB, ${(mapped / MiB).toFixed(0)} MiB mapped (${((mapped * 100) / IMAGE_SIZE).toFixed(0)}%); target: loop device ${loop} on ${os.cpus().length} cores; ${rounds} rounds; cmp after the last run: ${cmp.exitCode === 0 ? 'equal' : 'DIFFERENT'}.`,
      `Block map: pikube writeBmap ${bmapSeconds.toFixed(2)} s, \`bmaptool create\` ${bmaptoolCreate.seconds.toFixed(2)} s.`,
      '',
      '| method | runs (s) | best (s) | median (s) | median vs dd | peak RSS (MiB) |',
      '|---|---|---|---|---|---|',
      ...rows.map((row) => `| ${row.name} | ${row.runs.map((r) => r.seconds.toFixed(2)).join(', ')} | ${best(row.runs).toFixed(2)} | ${median(row.runs).toFixed(2)} | ${(median(row.runs) / dd).toFixed(2)}x | ${row.runs.some((r) => Number.isNaN(r.rssMiB)) ? '-' : Math.max(...row.runs.map((r) => r.rssMiB)).toFixed(0)} |`),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    if (loop) await execa('losetup', ['-d', loop], { reject: false });
    if (!process.env.KEEP_WORK) await rm(work, { recursive: true, force: true });
  }
}

await main();
