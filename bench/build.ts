// Benchmark for `pikube build` (issue: foundation): a 2 GiB Hypriot-shaped base holding ~1.2 GiB of data,
// a 300 MB overlay, beside the 2015 way (losetup + mount + cp + umount) in the same run.
// Run: npm run bench -- build   (root needed for the baseline's losetup/mount)
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDemoBase } from '../examples/make-demo-base.ts';
import { readLayout } from '../src/image/read-facts.ts';
import { measure, measureShell } from './measure.ts';

const work = fileURLToPath(new URL('./work/build/', import.meta.url));
const bin = fileURLToPath(new URL('../bin/pikube.js', import.meta.url));

// Prints a markdown table of the figures, kept in BENCHMARKS.md.
async function benchBuild(): Promise<string> {
  await rm(work, { recursive: true, force: true });
  await mkdir(join(work, 'overlay/opt/payload'), { recursive: true });
  try {
    const base = join(work, 'base.img');
    await makeDemoBase({ path: base, sizeMiB: 2048, fillerMiB: 1200 });
    const chunk = Buffer.alloc(2 ** 20);
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2246822519) >>> 0, i);
    for (let f = 0; f < 3; f++) {
      const parts: Buffer[] = [];
      for (let m = 0; m < 90; m++) { chunk.writeUInt32LE(f * 1000 + m, 0); parts.push(Buffer.from(chunk)); }
      await writeFile(join(work, `overlay/opt/payload/blob-${f}.bin`), Buffer.concat(parts));
    }
    for (let i = 0; i < 1000; i++) await writeFile(join(work, `overlay/opt/payload/small-${i}.txt`), `${'x'.repeat(30_000)}${i}\n`);
    await writeFile(join(work, 'pikube.yaml'), 'base: base.img\noverlay: overlay\n');
    const layout = await readLayout(base);
    const offset = layout.root.start * layout.table.sectorSize;
    const size = layout.root.size * layout.table.sectorSize;
    await execSync('sync');
    const pikube = await measure('node', [bin, 'build', '-q', '-c', join(work, 'pikube.yaml'), '-o', join(work, 'out.img')]);
    await rm(join(work, 'out.img'), { force: true });
    await execSync('sync');
    const mount = await measure('node', [bin, 'build', '-q', '--backend', 'mount', '-c', join(work, 'pikube.yaml'), '-o', join(work, 'out.img')]);
    await rm(join(work, 'out.img'), { force: true });
    await execSync('sync');
    const baselineScript = (copy: boolean) => `
      ${copy ? `cp --sparse=always ${base} ${work}/baseline.img` : `cp --sparse=always ${base} ${work}/baseline.img; sync`}
      ${copy ? '' : 'start=$(date +%s.%N)'}
      dev=$(losetup --find --show --offset ${offset} --sizelimit ${size} ${work}/baseline.img)
      mkdir -p ${work}/mnt; mount -t ext4 "$dev" ${work}/mnt
      cp -a ${work}/overlay/. ${work}/mnt/
      umount ${work}/mnt; losetup --detach "$dev"
      ${copy ? '' : 'echo "inplace $(echo "$(date +%s.%N) - $start" | bc)" >&2'}`;
    const baseline = await measureShell(baselineScript(true));
    await rm(join(work, 'baseline.img'), { force: true });
    await execSync('sync');
    return [
      '| build of a 2 GiB base (1.2 GiB data) + 300 MB overlay | wall time | peak RSS |',
      '|---|---|---|',
      `| baseline: cp --sparse base + losetup + mount + cp -a + umount | ${baseline.seconds.toFixed(2)} s | ${baseline.maxRssMiB.toFixed(0)} MiB |`,
      `| pikube build (debugfs backend, no root; includes fsck of both filesystems and sha256) | ${pikube.seconds.toFixed(2)} s | ${pikube.maxRssMiB.toFixed(0)} MiB |`,
      `| pikube build --backend mount | ${mount.seconds.toFixed(2)} s | ${mount.maxRssMiB.toFixed(0)} MiB |`,
    ].join('\n');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function execSync(command: string): Promise<void> {
  await measure(command, []);
}

process.stdout.write(`${await benchBuild()}\n`);
