// Benchmark for cluster builds (issue: cluster): a 5-node k3s cluster from one recipe beside single-node builds of
// the same recipe in the same run. Goal: the 5-node build takes at most 1.5x one single-node build.
// Base: 2 GiB Hypriot-shaped, 600 MiB of data; k3s stand-ins the size of the real ones (64 MiB binary, 160 MiB
// airgap images) served by a local mirror; the cache is filled once before timing.
// Run: npx tsx bench/cluster.ts (ROUNDS=N to change the number of interleaved rounds, default 3)
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { elfHeader, makeDemoBase } from '../examples/make-demo-base.ts';
import { getK3sAssets } from '../src/acquire/k3s-release.ts';
import { measure, type Measurement } from './measure.ts';

const work = fileURLToPath(new URL('./work/cluster/', import.meta.url));
const bin = fileURLToPath(new URL('../bin/pikube.js', import.meta.url));
const VERSION = 'v1.34.11+k3s1';
const NODES = 5;
const ROUNDS = Number(process.env.ROUNDS ?? 3);

function serveRelease(): Promise<{ url: string; close: () => void }> {
  const assets = getK3sAssets(VERSION, 'armhf');
  const binary = Buffer.concat([elfHeader('armhf'), randomBytes(64 * 2 ** 20)]);
  const airgap = randomBytes(160 * 2 ** 20);
  const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  const bodies = new Map<string, Buffer>();
  const key = (url: string) => { const u = new URL(url); return `/${u.host}${u.pathname}`; };
  bodies.set(key(assets.binaryUrl), binary);
  bodies.set(key(assets.airgapUrl), airgap);
  bodies.set(key(assets.checksumsUrl), Buffer.from(`${sha(airgap)}  ${assets.airgapName}\n${sha(binary)}  ${assets.binaryName}\n`));
  const server = createServer((request, response) => {
    const body = bodies.get(new URL(request.url ?? '/', 'http://x').pathname);
    if (!body) response.writeHead(404).end();
    else response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() })));
}

async function benchCluster(): Promise<string> {
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const mirror = await serveRelease();
  try {
    await makeDemoBase({ path: join(work, 'base.img'), sizeMiB: 2048, fillerMiB: 600 });
    const common = { base: 'base.img', mirror: mirror.url, user: { name: 'pirate', passwordHash: '$6$salt$abcdefghijklmnopqrstuv' }, kubernetes: { distribution: 'k3s' } };
    const nodes = Array.from({ length: NODES }, (_, i) => ({ hostname: `pi-${i + 1}`, role: i === 0 ? 'server' : 'agent', network: { address: `192.168.1.${50 + i}/24`, gateway: '192.168.1.1' } }));
    await writeFile(join(work, 'cluster.yaml'), stringify({ ...common, cluster: { nodes } }));
    const env = { PIKUBE_CACHE: join(work, 'cache') };
    const single = (i: number) => {
      const { hostname, network } = nodes[i] ?? { hostname: 'pi', network: undefined };
      return writeFile(join(work, `single-${i}.yaml`), stringify({ ...common, hostname, network }));
    };
    for (let i = 0; i < NODES; i++) await single(i);
    const run = async (args: string[]) => {
      // Each timed build starts with nothing waiting to be written back, so one run's dirty pages do not slow the next.
      await execa('sync');
      return measure('node', [bin, '-q', ...args], { env: { ...process.env as Record<string, string>, ...env } });
    };
    await run(['plan', '-c', join(work, 'single-0.yaml')]);
    // Rounds interleave the two so that a busy moment of the machine hits both alike; medians over the rounds.
    const singles: Measurement[] = [];
    const clusters: Measurement[] = [];
    const roundTotals: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      let total = 0;
      for (let i = 0; i < NODES; i++) {
        const m = await run(['build', '-c', join(work, `single-${i}.yaml`), '-o', join(work, `single-${i}.img`)]);
        singles.push(m);
        total += m.seconds;
        await rm(join(work, `single-${i}.img`), { force: true });
      }
      roundTotals.push(total);
      clusters.push(await run(['build', '-c', join(work, 'cluster.yaml'), '-o', join(work, 'cluster')]));
      await rm(join(work, 'cluster'), { recursive: true, force: true });
    }
    const median = (values: number[]) => {
      const sorted = values.toSorted((a, b) => a - b);
      const mid = Math.floor(sorted.length / 2);
      return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
    };
    const one = median(singles.map((m) => m.seconds));
    const five = median(roundTotals);
    const cluster = median(clusters.map((m) => m.seconds));
    const rss = (ms: Measurement[]) => Math.max(...ms.map((m) => m.maxRssMiB));
    return [
      `| ${NODES}-node k3s cluster, 2 GiB base (600 MiB data) + 64 MiB k3s + 160 MiB airgap, median of ${ROUNDS} rounds | wall time | vs one single build | peak RSS |`,
      '|---|---|---|---|',
      `| one single-node build (median of ${singles.length}) | ${one.toFixed(2)} s | 1.00x | ${rss(singles).toFixed(0)} MiB |`,
      `| baseline: ${NODES} single-node builds, one after another | ${five.toFixed(2)} s | ${(five / one).toFixed(2)}x | ${rss(singles).toFixed(0)} MiB |`,
      `| pikube build of the ${NODES}-node cluster (goal <= 1.5x) | ${cluster.toFixed(2)} s | ${(cluster / one).toFixed(2)}x | ${rss(clusters).toFixed(0)} MiB |`,
      '',
      `Each round: ${clusters.map((m, i) => `cluster ${m.seconds.toFixed(2)} s / ${NODES} singles ${(roundTotals[i] ?? 0).toFixed(2)} s`).join('; ')}.`,
    ].join('\n');
  } finally {
    mirror.close();
    await rm(work, { recursive: true, force: true });
  }
}

process.stdout.write(`${await benchCluster()}\n`);
