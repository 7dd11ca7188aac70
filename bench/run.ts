// `npm run bench [-- NAME…]`: runs each benchmark and prints its markdown table (copied into BENCHMARKS.md).
import process from 'node:process';
import { benchBuild } from './build.ts';

const benches: Record<string, () => Promise<string>> = { build: benchBuild };
const chosen = process.argv.slice(2).filter((name) => name in benches);
for (const name of chosen.length > 0 ? chosen : Object.keys(benches)) {
  process.stderr.write(`running bench ${name}…\n`);
  process.stdout.write(`\n### ${name}\n\n${await (benches[name] as () => Promise<string>)()}\n`);
}
