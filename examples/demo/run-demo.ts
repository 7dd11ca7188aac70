// `npm run demo`: builds a k3s card for the worked example with no internet, from a clearly labelled stand-in k3s
// release served on 127.0.0.1 (a real ELF header that runs nothing, a fake airgap tarball), into a cache of its own
// so the real download cache never holds stand-in bytes; then prints what a newcomer wants to see on the card.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { DEFAULT_K3S_VERSION } from '../../src/acquire/k3s-release.ts';
import { readLayout } from '../../src/image/read-facts.ts';
import { readExtText } from '../../src/tools/debugfs.ts';
import { makeDemoBase } from '../make-demo-base.ts';
import { startMirrorServer } from './serve-mirror.ts';
import { serveStandInK3s } from './stand-in-k3s.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const output = join(root, 'demo.img');
const show = ['/etc/rancher/k3s/config.yaml', '/etc/systemd/system/k3s.service'];

const banner = (title: string) => process.stdout.write(`\n===== ${title} =====\n`);

await makeDemoBase({ path: join(root, 'demo-base.img') });
const mirror = await startMirrorServer();
const cache = await mkdtemp(join(tmpdir(), 'pikube-demo-cache-'));
try {
  serveStandInK3s(mirror, DEFAULT_K3S_VERSION.armhf as string, 'armhf');
  process.stderr.write(`demo: serving a STAND-IN k3s ${DEFAULT_K3S_VERSION.armhf} (not the real k3s: it runs nothing) on ${mirror.url}\n`);
  await execa('node', [join(root, 'bin/pikube.js'), 'build', '-c', join(root, 'examples/demo.yaml'), '-o', output, '--mirror', mirror.url, '--cache', cache, '--allow-http'], { stdio: 'inherit' });
  const { root: rootPartition, table } = await readLayout(output);
  const volume = { image: output, offset: rootPartition.start * table.sectorSize };
  for (const path of show) {
    banner(`${path} on the card`);
    process.stdout.write((await readExtText(volume, path)) ?? '(missing)\n');
  }
  banner(`${output}.kubeconfig (for kubectl on your computer once the Pi is up)`);
  // Certificates and the key shortened: the file itself is complete (0600).
  process.stdout.write((await readFile(`${output}.kubeconfig`, 'utf8')).replace(/(-data: )(\S{24})\S+/g, '$1$2…'));
  process.stdout.write('\nA real card: put `base: hypriot` (or raspios-lite-arm64) in the recipe and build without --mirror.\n');
} finally {
  await mirror.close();
  await rm(cache, { recursive: true, force: true });
}
