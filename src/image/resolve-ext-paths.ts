import { posix } from 'node:path';
import { UserError } from '../errors.ts';
import { statExtPaths, type ExtInode, type ExtVolume } from '../tools/debugfs.ts';

export interface ResolvedExtPaths {
  // Each path with no symlink left among its parents.
  resolved: Map<string, string>;
  // What debugfs said about every path it was asked for on the way (undefined: not there), resolved paths included.
  stats: Map<string, ExtInode | undefined>;
}

// Rewrites each path so that no parent component is a symlink, following the image's own links
// (/var/run -> /run, /lib -> usr/lib) the way the Pi will: debugfs `write` and `mkdir` do not follow them.
// Every parent of every path is asked for in one debugfs run; only a symlink found on the way costs another.
export async function resolveParentLinks(volume: ExtVolume, paths: readonly string[]): Promise<ResolvedExtPaths> {
  const stats = new Map<string, ExtInode | undefined>();
  const resolved = new Map<string, string>();
  for (let round = 0; round < 8; round++) {
    const pending = new Set<string>();
    for (const path of paths) {
      const result = tryResolve(path, stats);
      if (typeof result === 'string') resolved.set(path, result);
      for (const prefix of typeof result === 'string' ? [result] : result.unknown) if (!stats.has(prefix)) pending.add(prefix);
    }
    if (pending.size === 0) return { resolved, stats };
    for (const [prefix, inode] of await statExtPaths(volume, [...pending])) stats.set(prefix, inode);
  }
  throw new UserError(`too many symlinks while resolving paths in the base image (${paths[0]}…)`, 'check the base image for a symlink loop');
}

// The path with its parents' links followed, or every prefix still to ask about: the first unknown parent and,
// assuming no link among them, all the parents below it and the path itself.
function tryResolve(path: string, stats: Map<string, ExtInode | undefined>): string | { unknown: string[] } {
  const parts = path.split('/').filter(Boolean);
  const last = parts.pop() ?? '';
  let current = '/';
  let hops = 0;
  while (parts.length > 0) {
    const part = parts.shift() as string;
    const next = posix.join(current, part);
    if (!stats.has(next)) {
      const unknown = [next];
      for (const rest of [...parts, last]) unknown.push(posix.join(unknown.at(-1) as string, rest));
      return { unknown };
    }
    const inode = stats.get(next);
    if (inode?.type !== 'symlink') {
      current = next;
      continue;
    }
    if (inode.linkTarget === undefined) {
      throw new UserError(`${next} in the base image is a symlink with a long target pikube cannot follow`, 'write the file to the link\'s target path instead');
    }
    if (++hops > 40) throw new UserError(`too many symlinks while resolving ${path} in the base image`, 'check the base image for a symlink loop');
    parts.unshift(...inode.linkTarget.split('/').filter(Boolean));
    if (inode.linkTarget.startsWith('/')) current = '/';
  }
  return posix.join(current, last);
}
