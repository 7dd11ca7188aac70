// `npm run bench [-- NAME…]`: runs each benchmark script in its own process and prints its markdown table
// (the tables recorded in BENCHMARKS.md). Names: build, acquire, registry, flash, cluster, static, boot-test, startup.
import { existsSync } from 'node:fs';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const ALL = ['build', 'acquire', 'registry', 'flash', 'cluster', 'static', 'boot-test', 'startup'];
const chosen = process.argv.slice(2).filter((name) => ALL.includes(name));
for (const name of chosen.length > 0 ? chosen : ALL) {
  const script = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  if (!existsSync(script)) continue;
  process.stderr.write(`running bench ${name}…\n`);
  const result = await execa('npx', ['tsx', script], { stderr: 'inherit', reject: false });
  process.stdout.write(`\n### ${name}\n\n${String(result.stdout).trim()}\n`);
  if (result.exitCode !== 0) process.stdout.write(`\n(bench ${name} failed with exit ${result.exitCode})\n`);
}
