import { posix } from 'node:path';
import { UserError } from '../errors.ts';
import { statExtPaths, type ExtVolume } from '../tools/debugfs.ts';

// Rewrites each path so that no parent component is a symlink, following the image's own links
// (/var/run -> /run, /lib -> usr/lib) the way the Pi will: debugfs `write` and `mkdir` do not follow them.
export async function resolveParentLinks(volume: ExtVolume, paths: readonly string[]): Promise<Map<string, string>> {
  const known = new Map<string, string | null>();
  const resolved = new Map<string, string>();
  for (let round = 0; round < 8; round++) {
    const pending: string[] = [];
    for (const path of paths) {
      const result = tryResolve(path, known);
      if (typeof result === 'string') resolved.set(path, result);
      else pending.push(...result.unknown);
    }
    if (pending.length === 0) return resolved;
    const stats = await statExtPaths(volume, [...new Set(pending)]);
    for (const [prefix, inode] of stats) {
      if (inode?.type === 'symlink' && inode.linkTarget === undefined) {
        throw new UserError(`${prefix} in the base image is a symlink with a long target pikube cannot follow`, 'write the file to the link\'s target path instead');
      }
      known.set(prefix, inode?.type === 'symlink' ? (inode.linkTarget ?? null) : null);
    }
  }
  throw new UserError(`too many symlinks while resolving paths in the base image (${paths[0]}…)`, 'check the base image for a symlink loop');
}

function tryResolve(path: string, known: Map<string, string | null>): string | { unknown: string[] } {
  const parts = path.split('/').filter(Boolean);
  const last = parts.pop() ?? '';
  let current = '/';
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift() as string;
    const next = posix.join(current, part);
    if (!known.has(next)) return { unknown: [next] };
    const target = known.get(next);
    if (target === null || target === undefined) {
      current = next;
      continue;
    }
    if (++hops > 40) throw new UserError(`too many symlinks while resolving ${path} in the base image`, 'check the base image for a symlink loop');
    parts.unshift(...target.split('/').filter(Boolean));
    if (target.startsWith('/')) current = '/';
  }
  return posix.join(current, last);
}
