import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

// --cache wins, then PIKUBE_CACHE, then the checkout's cache/ folder, then the user's cache directory.
export function resolveCacheDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return path.resolve(flag);
  if (env.PIKUBE_CACHE) return path.resolve(env.PIKUBE_CACHE);
  const checkout = findCheckoutCache();
  if (checkout) return checkout;
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(homedir(), '.cache');
  return path.join(base, 'pikube');
}

// A git checkout keeps its downloads beside the code; an installed package (under node_modules) does not.
function findCheckoutCache(): string | undefined {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  if (root.split(path.sep).includes('node_modules')) return undefined;
  const cache = path.join(root, 'cache');
  try {
    const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name?: string };
    if (manifest.name !== 'pikube' || !existsSync(cache) || !statSync(cache).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  return cache;
}
