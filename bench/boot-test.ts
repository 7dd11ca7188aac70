// `npx tsx bench/boot-test.ts [--cold]`: the boot test's costs on this machine. The Debian root cold (debootstrap,
// only with --cold) beside warm (the cached tarball), the image and build, then boot-test on raspi3b and on virt.
import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { elfHeader } from '../examples/make-demo-base.ts';
import { getK3sAssets } from '../src/acquire/k3s-release.ts';
import { ensureDebianRoot, makeDebianPiImage } from '../test/boot/helpers/debian-pi.ts';
import { measure, type Measurement } from './measure.ts';

const work = fileURLToPath(new URL('./work/boot-test/', import.meta.url));
const bin = fileURLToPath(new URL('../bin/pikube.js', import.meta.url));
const makeRoot = fileURLToPath(new URL('../test/boot/make-debian-root.sh', import.meta.url));
const rows: Array<[string, Measurement]> = [];

await rm(work, { recursive: true, force: true });
await mkdir(work, { recursive: true });
const bodies = new Map<string, Buffer>();
const server = createServer((request, response) => {
  const body = bodies.get(new URL(request.url ?? '/', 'http://m').pathname);
  if (body) response.writeHead(200, { 'content-length': body.length }).end(body);
  else response.writeHead(404).end();
});
try {
  if (process.argv.includes('--cold')) rows.push(['Debian root, cold (debootstrap + kernel + initrd → tarball)', await measure('bash', [makeRoot, join(work, 'cold-root.tar')])]);
  await rm(join(work, 'cold-root.tar'), { force: true });
  const started = performance.now();
  const { tarball } = await ensureDebianRoot();
  await makeDebianPiImage(tarball, join(work, 'image'), join(work, 'base.img'));
  rows.push(['Debian root, warm (cached tarball) + Pi-shaped image', { seconds: (performance.now() - started) / 1000, maxRssMiB: Number.NaN }]);

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const assets = getK3sAssets('v1.36.4+k3s1', 'arm64');
  const binary = Buffer.concat([elfHeader('arm64'), Buffer.alloc(256 * 1024, 0x6b)]);
  const airgap = Buffer.from('stand-in airgap\n'.repeat(1000));
  const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  const key = (url: string) => `/${new URL(url).host}${new URL(url).pathname}`;
  bodies.set(key(assets.binaryUrl), binary);
  bodies.set(key(assets.airgapUrl), airgap);
  bodies.set(key(assets.checksumsUrl), Buffer.from(`${sha(airgap)}  ${assets.airgapName}\n${sha(binary)}  ${assets.binaryName}\n`));
  await writeFile(join(work, 'pikube.yaml'), stringify({ base: 'base.img', mirror, hostname: 'pi-bench', kubernetes: {} }));
  const env = { ...process.env, PIKUBE_CACHE: join(work, 'cache') } as Record<string, string>;
  rows.push(['pikube build (k3s profile, stand-in k3s)', await measure('node', [bin, '-q', 'build', '-c', join(work, 'pikube.yaml'), '-o', join(work, 'built.img')], { env })]);
  for (const machine of ['raspi3b', 'virt']) {
    rows.push([`pikube boot-test --machine ${machine} (node wait 15 s)`,
      await measure('node', [bin, '-q', 'boot-test', join(work, 'built.img'), '--machine', machine, '--node-wait', '15'], { env })]);
  }
} finally {
  server.close();
  await rm(work, { recursive: true, force: true });
}
process.stdout.write('| step | wall s | peak RSS MiB |\n|---|---:|---:|\n');
for (const [name, m] of rows) process.stdout.write(`| ${name} | ${m.seconds.toFixed(1)} | ${Number.isNaN(m.maxRssMiB) ? '–' : m.maxRssMiB.toFixed(0)} |\n`);
