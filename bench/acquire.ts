// Benchmark: download + unpack of a ~1 GiB image zip from 127.0.0.1 with pikube (fetchArtifact + unpackImage)
// beside curl then `unzip -p`, and `curl | funzip`, in the same run. Prints a markdown table.
// Usage: npx tsx bench/acquire.ts [--sizes 256,1024] [--rounds 3]
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const MiB = 1024 * 1024;
const root = fileURLToPath(new URL('../', import.meta.url));
const work = path.join(root, 'bench', 'work', 'acquire');
const self = fileURLToPath(import.meta.url);

// Child mode: one pikube acquisition, timed step by step; prints JSON.
async function runPikube(url: string, sha256: string, dir: string): Promise<void> {
  const { fetchArtifact } = await import('../src/acquire/fetch-artifact.ts');
  const { unpackImage } = await import('../src/acquire/unpack-image.ts');
  const started = performance.now();
  const fetched = await fetchArtifact(url, { sha256 }, { cacheDir: path.join(dir, 'cache') });
  const downloaded = performance.now();
  const written = await unpackImage(fetched.path, path.join(dir, 'pikube.img'));
  const done = performance.now();
  process.stdout.write(JSON.stringify({ downloadMs: downloaded - started, unpackMs: done - downloaded, bytes: written.bytes }));
}

async function main(): Promise<void> {
  const sizes = (option('--sizes') ?? '256,1024').split(',').map(Number);
  const rounds = Number(option('--rounds') ?? '3');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const rows: string[][] = [];
  try {
    for (const sizeMiB of sizes) {
      const dir = path.join(work, `${sizeMiB}`);
      await mkdir(dir, { recursive: true });
      const image = path.join(dir, 'bench.img');
      const dataMiB = await makeImage(image, sizeMiB);
      const zip = path.join(dir, 'bench.img.zip');
      await execa('zip', ['-q', '-j', zip, image]);
      const zipSize = (await stat(zip)).size;
      const sha256 = await sha256Of(zip);
      const server = execa(process.execPath, ['-e', SERVER, zip], { stdout: 'pipe', buffer: false });
      const port = await new Promise<string>((resolve) => server.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
      const url = `http://127.0.0.1:${port}/bench.img.zip`;
      try {
        const runs: Record<string, { wall: number[]; rss: number[]; extra?: string }> = {};
        const variants: [string, () => Promise<{ wall: number; rss: number; extra?: string }>][] = [
          ['pikube fetchArtifact + unpackImage', async () => {
            await rm(path.join(dir, 'cache'), { recursive: true, force: true });
            await rm(path.join(dir, 'pikube.img'), { force: true });
            const r = await timed([process.execPath, '--import', 'tsx', self, '--pikube', url, sha256, dir]);
            const steps = JSON.parse(r.stdout) as { downloadMs: number; unpackMs: number };
            return { ...r, extra: `download ${(steps.downloadMs / 1000).toFixed(2)} s + unpack ${(steps.unpackMs / 1000).toFixed(2)} s` };
          }],
          ['curl -o, then unzip -p >', async () => {
            await rm(path.join(dir, 'curl.zip'), { force: true });
            const a = await timed(['curl', '-s', '-o', path.join(dir, 'curl.zip'), url]);
            const b = await timed(['sh', '-c', 'unzip -p "$1" > "$2"', 'sh', path.join(dir, 'curl.zip'), path.join(dir, 'unzip.img')]);
            return { wall: a.wall + b.wall, rss: Math.max(a.rss, b.rss), extra: `curl ${a.wall.toFixed(2)} s + unzip ${b.wall.toFixed(2)} s` };
          }],
          ['curl -s \\| funzip >', async () => timed(['sh', '-c', 'curl -s "$1" | funzip > "$2"', 'sh', url, path.join(dir, 'funzip.img')])],
        ];
        for (let round = 0; round < rounds; round++) {
          for (const [name, run] of variants) {
            const r = await run();
            const entry = (runs[name] ??= { wall: [], rss: [] });
            entry.wall.push(r.wall);
            entry.rss.push(r.rss);
            entry.extra = r.extra;
          }
        }
        const baseline = median(runs['curl -o, then unzip -p >']!.wall);
        for (const [name, r] of Object.entries(runs)) {
          rows.push([`${sizeMiB} MiB (${dataMiB} MiB data, zip ${(zipSize / MiB).toFixed(0)} MiB)`, name, median(r.wall).toFixed(2), (median(r.wall) / baseline).toFixed(2), (Math.max(...r.rss) / 1024).toFixed(0), r.extra ?? '']);
        }
        await verifySame(path.join(dir, 'pikube.img'), path.join(dir, 'unzip.img'), image);
      } finally {
        server.kill();
        await server.catch(() => undefined);
        await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(`\nMachine: ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}; median of ${rounds} rounds; server: node:http on 127.0.0.1 (separate process)\n\n`);
  process.stdout.write('| image | method | wall (s) | vs curl+unzip | peak RSS (MiB) | steps (last round) |\n|---|---|---|---|---|---|\n');
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
}

// A Pi-like image: random blocks (incompressible), text-like blocks (compressible) and zeros, about 3/8 data.
async function makeImage(file: string, sizeMiB: number): Promise<number> {
  const handle = await open(file, 'w');
  let data = 0;
  try {
    const text = Buffer.from(Array.from({ length: 40000 }, (_, i) => `line ${i} of a config file: key=${(i * 7919) % 10007}\n`).join('').slice(0, MiB));
    for (let mib = 0; mib < sizeMiB; mib++) {
      const kind = mib % 8;
      if (kind === 0 || kind === 1) await handle.write(randomBytes(MiB), 0, MiB, mib * MiB);
      else if (kind === 2) await handle.write(text, 0, MiB, mib * MiB);
      else continue;
      data += 1;
    }
    await handle.truncate(sizeMiB * MiB);
  } finally {
    await handle.close();
  }
  return data;
}

async function timed(command: string[]): Promise<{ wall: number; rss: number; stdout: string }> {
  const started = performance.now();
  const result = await execa('/usr/bin/time', ['-f', '%M', ...command], { cwd: root });
  const wall = (performance.now() - started) / 1000;
  const rss = Number(result.stderr.trim().split('\n').pop());
  return { wall, rss, stdout: result.stdout };
}

async function verifySame(...files: string[]): Promise<void> {
  const digests = await Promise.all(files.map(sha256Of));
  if (new Set(digests).size !== 1) throw new Error(`outputs differ: ${files.map((f, i) => `${f}=${digests[i]}`).join(' ')}`);
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const SERVER = `
const http = require('node:http'); const fs = require('node:fs');
const file = process.argv[1]; const size = fs.statSync(file).size;
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-length': size });
  fs.createReadStream(file, { highWaterMark: 1 << 20 }).pipe(res);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

if (process.argv[2] === '--pikube') await runPikube(process.argv[3]!, process.argv[4]!, process.argv[5]!);
else await main();
