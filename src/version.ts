import { readFileSync } from 'node:fs';

// Read once from package.json so --version, build records and bug reports agree.
export const PIKUBE_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
