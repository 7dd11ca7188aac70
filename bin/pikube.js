#!/usr/bin/env node
// Runs the compiled CLI (dist/, made by `npm run build`; `npm ci` and `npm pack` build it through `prepare`).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('pikube: dist/ is missing: run `npm run build` in the pikube folder (npm ci does it too)\n');
  process.exit(2);
}
await import(cli.href);
