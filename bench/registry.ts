// Pull a 200 MB, 5-layer image (random, incompressible) from a local docker-registry: pikube cold and warm beside
// `skopeo copy docker://… oci-archive:…` in the same run. Run: npx tsx bench/registry.ts
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { setLogLevel } from '../src/log.ts';
import { writeImageTarball } from '../src/registry/image-tarball.ts';
import { parsePlatform } from '../src/registry/platform.ts';
import { pullImage } from '../src/registry/pull-image.ts';
import { startRegistry, seedWithSkopeo } from '../test/registry/helpers/registry-server.ts';

const LAYERS = 5;
const LAYER_MIB = 40;
const ROUNDS = 3;

interface Measured {
  seconds: number;
  peakRssMiB: number;
}

// Runs a command under /usr/bin/time -v for wall time and peak RSS.
async function measure(file: string, args: string[], env: Record<string, string> = {}): Promise<Measured> {
  const started = process.hrtime.bigint();
  const result = await execa('/usr/bin/time', ['-v', file, ...args], { reject: false, env: { ...process.env, ...env } });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.exitCode !== 0) throw new Error(`${file} ${args.join(' ')} failed: ${result.stderr}`);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)?.[1];
  return { seconds, peakRssMiB: Number(rss ?? 0) / 1024 };
}

async function buildBigImage(root: string): Promise<string> {
  const layout = join(root, 'layout');
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  const put = async (path: string | undefined, data?: Buffer | string) => {
    const bytes = data ?? (await execa('cat', [path ?? ''], { encoding: 'buffer' })).stdout;
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await writeFile(join(layout, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { digest, size: Buffer.byteLength(bytes), diffId: digest };
  };
  const layers = [];
  for (let i = 0; i < LAYERS; i += 1) {
    const dir = join(root, `layer-${i}`);
    await mkdir(dir);
    await execa('head', ['-c', `${LAYER_MIB}M`, '/dev/urandom'], { stdout: { file: join(dir, `random-${i}.bin`) } });
    await execa('tar', ['--owner=0', '--group=0', '--mtime=@0', '-C', dir, '-cf', join(root, `layer-${i}.tar`), '.']);
    layers.push(await put(join(root, `layer-${i}.tar`)));
    await rm(dir, { recursive: true });
    await rm(join(root, `layer-${i}.tar`));
  }
  const config = await put(undefined, JSON.stringify({ architecture: 'arm64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } }));
  const manifest = await put(undefined, JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.digest, size: l.size })),
  }));
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifest.digest, size: manifest.size, annotations: { 'org.opencontainers.image.ref.name': '1' } }] }));
  return layout;
}

// The library call `pikube build` makes: pull into the cache, then write the tarball (wall time, in this process).
async function measureLibrary(ref: string, cacheDir: string, output: string | undefined, offline: boolean, dockerConfigPath: string): Promise<Measured> {
  const started = process.hrtime.bigint();
  const pulled = await pullImage(ref, { platform: parsePlatform('linux/arm64'), cacheDir, offline, dockerConfigPath });
  if (output) await writeImageTarball(pulled, output);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, peakRssMiB: Number.NaN };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const root = await mkdtemp(join(tmpdir(), 'pikube-bench-registry-'));
let stop: (() => Promise<void>) | undefined;
try {
  process.stderr.write(`building a ${LAYERS}-layer, ${LAYERS * LAYER_MIB} MiB image of random data…\n`);
  const layout = await buildBigImage(root);
  const storage = join(root, 'storage');
  await mkdir(storage);
  const registry = await startRegistry(root, storage);
  stop = () => registry.stop();
  await seedWithSkopeo(layout, '1', `${registry.host}/bench/big:1`);
  const ref = `${registry.host}/bench/big:1`;
  const cli = ['bin/pikube.js', '--quiet', 'pull', ref, '--platform', 'linux/arm64'];
  const noDockerConfig = join(root, 'no-docker-config', 'config.json');
  setLogLevel('quiet');
  const env = { DOCKER_CONFIG: join(root, 'no-docker-config') };
  const rows: Record<string, Measured[]> = { skopeo: [], cold: [], warm: [], offline: [], libCold: [], libWarm: [], libOffline: [], libWarmPull: [] };
  let tarSize = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    process.stderr.write(`round ${round + 1} of ${ROUNDS}\n`);
    const out = join(root, 'out');
    await rm(out, { recursive: true, force: true });
    await mkdir(out);
    rows.skopeo?.push(await measure('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci-archive:${join(out, 'skopeo.tar')}`]));
    const cache = join(out, 'cache');
    rows.cold?.push(await measure('node', [...cli, '-o', join(out, 'cold.tar'), '--cache', cache], env));
    rows.warm?.push(await measure('node', [...cli, '-o', join(out, 'warm.tar'), '--cache', cache], env));
    rows.offline?.push(await measure('node', [...cli, '--offline', '-o', join(out, 'offline.tar'), '--cache', cache], env));
    const libCache = join(out, 'lib-cache');
    rows.libCold?.push(await measureLibrary(ref, libCache, join(out, 'lib-cold.tar'), false, noDockerConfig));
    rows.libWarm?.push(await measureLibrary(ref, libCache, join(out, 'lib-warm.tar'), false, noDockerConfig));
    rows.libOffline?.push(await measureLibrary(ref, libCache, join(out, 'lib-offline.tar'), true, noDockerConfig));
    rows.libWarmPull?.push(await measureLibrary(ref, libCache, undefined, false, noDockerConfig));
    tarSize = (await stat(join(out, 'cold.tar'))).size;
  }
  const startup = await measure('node', ['bin/pikube.js', '--version']);
  const label: Record<string, string> = {
    skopeo: '`skopeo copy docker://… oci-archive:…` (no cache: always cold)',
    cold: '`pikube pull … -o x.tar`, empty cache',
    warm: '`pikube pull … -o x.tar`, warm cache (manifest re-checked online, tarball rewritten)',
    offline: '`pikube pull --offline … -o x.tar` (cache only, tarball rewritten)',
    libCold: 'library `pullImage` + `writeImageTarball`, empty cache (in-process, as `pikube build` calls it)',
    libWarm: 'library, warm cache (manifest re-checked online, tarball rewritten)',
    libOffline: 'library, `offline: true`',
    libWarmPull: 'library `pullImage` alone, warm cache (no tarball)',
  };
  const lines = [
    `Image: ${LAYERS} layers × ${LAYER_MIB} MiB random data (${(tarSize / 2 ** 20).toFixed(0)} MiB tarball), local docker-registry 2.8 on 127.0.0.1; median of ${ROUNDS} rounds.`,
    '',
    '| run | wall (s) | peak RSS (MiB) |',
    '|---|---:|---:|',
    ...Object.entries(rows).map(([key, values]) => `| ${label[key]} | ${median(values.map((v) => v.seconds)).toFixed(2)} | ${Number.isNaN(values[0]?.peakRssMiB) ? '–' : median(values.map((v) => v.peakRssMiB)).toFixed(0)} |`),
    `| (pikube CLI start-up alone: \`node bin/pikube.js --version\`) | ${startup.seconds.toFixed(2)} | ${startup.peakRssMiB.toFixed(0)} |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await stop?.();
  await rm(root, { recursive: true, force: true });
}
