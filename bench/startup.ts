// Start-up benchmark: how long each command takes to reach its first action (reading its recipe or image, which
// here fails at once on a missing file, or printing help), beside `node -e 0` and, with BASELINE_PIKUBE naming an
// older checkout's bin/pikube.js, that code in the same rounds. Interleaved rounds, medians. Prints a markdown table.
// Run: npm run bench -- startup   (ROUNDS=N, default 7)
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const pikube = fileURLToPath(new URL('../bin/pikube.js', import.meta.url));
const baseline = process.env.BASELINE_PIKUBE;
const rounds = Number(process.env.ROUNDS ?? 7);
const scratch = await mkdtemp(path.join(os.tmpdir(), 'pikube-bench-startup-'));
const missing = (name: string) => path.join(scratch, name);

const CASES: Array<{ label: string; args: string[] }> = [
  { label: '`pikube --help`', args: ['--help'] },
  { label: '`pikube --version`', args: ['--version'] },
  { label: '`pikube build -c MISSING.yaml` (reads the recipe)', args: ['build', '-c', missing('r.yaml')] },
  { label: '`pikube plan -c MISSING.yaml` (reads the recipe)', args: ['plan', '-c', missing('r.yaml')] },
  { label: '`pikube flash MISSING.img --device X` (looks at the image)', args: ['flash', missing('x.img'), '--device', missing('dev')] },
  { label: '`pikube inspect MISSING.img` (looks at the image)', args: ['inspect', missing('x.img')] },
  { label: '`pikube cache ls` (an empty cache)', args: ['cache', '--cache', missing('cache'), 'ls'] },
];

async function time(command: string, args: string[]): Promise<number> {
  const started = performance.now();
  await execa(command, args, { reject: false, env: { NO_COLOR: '1' } });
  return (performance.now() - started) / 1000;
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

try {
  const node: number[] = [];
  const now = CASES.map(() => [] as number[]);
  const before = CASES.map(() => [] as number[]);
  for (let round = 0; round < rounds; round++) {
    node.push(await time(process.execPath, ['-e', '0']));
    for (const [i, c] of CASES.entries()) {
      now[i]?.push(await time(process.execPath, [pikube, ...c.args]));
      if (baseline) before[i]?.push(await time(process.execPath, [baseline, ...c.args]));
    }
  }
  const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
  console.log(`Load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${rounds} interleaved rounds, medians.\n`);
  console.log(`| to the first action | pikube (compiled, lazy) |${baseline ? ' BASELINE_PIKUBE |' : ''}`);
  console.log(`|---|---|${baseline ? '---|' : ''}`);
  console.log(`| \`node -e 0\` (Node alone) | ${ms(median(node))} |${baseline ? ` ${ms(median(node))} |` : ''}`);
  for (const [i, c] of CASES.entries()) {
    console.log(`| ${c.label} | ${ms(median(now[i] ?? []))} |${baseline ? ` ${ms(median(before[i] ?? []))} |` : ''}`);
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
