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
    const build = (backend: string) => measure('node', [bin, 'build', '-q', '--backend', backend, '-c', join(work, 'pikube.yaml'), '-o', join(work, 'out.img')], { env: { ...process.env, PIKUBE_CACHE: join(work, 'cache') } as Record<string, string> });
    await execSync('sync');
    const first = await build('debugfs');
    await execSync('sync');
    const again = await build('debugfs');
    await execSync('sync');
    const mount = await build('mount');
    await rm(join(work, 'out.img'), { force: true });
    await execSync('sync');
    const attach = `dev=$(losetup --find --show --offset ${offset} --sizelimit ${size} ${work}/baseline.img)
      mkdir -p ${work}/mnt; mount -t ext4 "$dev" ${work}/mnt
      cp -a ${work}/overlay/. ${work}/mnt/
      umount ${work}/mnt; losetup --detach "$dev"`;
    await measureShell(`cp --sparse=always ${base} ${work}/baseline.img; sync`);
    const inPlace = await measureShell(attach);
    await rm(join(work, 'baseline.img'), { force: true });
    await execSync('sync');
    const withCopy = await measureShell(`cp --sparse=always ${base} ${work}/baseline.img\n${attach}`);
    await rm(join(work, 'baseline.img'), { force: true });
    await execSync('sync');
    const sameWork = await measureShell(`cp --sparse=always ${base} ${work}/baseline.img\n${attach}
      e2fsck -fn "${work}/baseline.img?offset=${offset}" >/dev/null
      openssl dgst -sha256 ${work}/baseline.img >/dev/null`);
    await rm(join(work, 'baseline.img'), { force: true });
    const row = (label: string, m: { seconds: number; maxRssMiB: number }) => `| ${label} | ${m.seconds.toFixed(2)} s | ${m.maxRssMiB.toFixed(0)} MiB |`;
    return [
      `Load average at the start: ${(await import('node:os')).loadavg().map((n) => n.toFixed(1)).join(' ')}.`,
      '',
      '| build of a 2 GiB base (1.2 GiB data) + 300 MB overlay (3 x 90 MiB + 1000 small files) | wall time | peak RSS |',
      '|---|---|---|',
      row('baseline, the 2015 way in place: losetup + mount + cp -a + umount on an existing copy (root)', inPlace),
      row('baseline with the copy: cp --sparse base, then the same', withCopy),
      row('baseline doing what pikube also does: copy, mount + cp -a + umount, e2fsck -fn, sha256 of the image', sameWork),
      row('pikube build, first build from this base (hashes the 2 GiB base while copying it)', first),
      row('pikube build again (base digest remembered in the cache)', again),
      row('pikube build --backend mount (root; base digest remembered)', mount),
    ].join('\n');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function execSync(command: string): Promise<void> {
  await measure(command, []);
}

process.stdout.write(`${await benchBuild()}\n`);
