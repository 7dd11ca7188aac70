import { posix } from 'node:path';
import { UserError } from '../errors.ts';
import type { DirectoryEntry, PartitionRole, PlanEntry } from './types.ts';

// Later entries win over earlier ones for the same path; a file and a directory at one path is a conflict.
// Every parent is listed too (mode 0755, root) and marked `ensure` so an existing directory keeps its metadata.
export function mergeEntries(entries: readonly PlanEntry[]): PlanEntry[] {
  const byPath = new Map<string, PlanEntry>();
  for (const entry of entries) {
    const key = keyOf(entry.partition, entry.path);
    const previous = byPath.get(key);
    if (previous && (previous.type === 'directory') !== (entry.type === 'directory')) {
      throw new UserError(`${entry.partition}:${entry.path} is a ${previous.type} in ${previous.origin} and a ${entry.type} in ${entry.origin}`,
        'give each path one kind: rename one of them or remove it from the recipe or overlay');
    }
    byPath.set(key, entry);
  }
  for (const entry of [...byPath.values()]) {
    for (let parent = posix.dirname(entry.path); parent !== '/'; parent = posix.dirname(parent)) {
      const key = keyOf(entry.partition, parent);
      const existing = byPath.get(key);
      if (existing && existing.type !== 'directory') {
        throw new UserError(`${entry.partition}:${parent} is a ${existing.type} in ${existing.origin}, but ${entry.origin} puts ${entry.path} inside it`,
          'a path cannot be both a file and a folder');
      }
      if (!existing) byPath.set(key, parentDirectory(entry.partition, parent, entry.origin));
    }
  }
  return [...byPath.values()].sort(compareEntries);
}

function parentDirectory(partition: PartitionRole, path: string, origin: string): DirectoryEntry {
  return { type: 'directory', partition, path, mode: 0o755, uid: 0, gid: 0, origin: `parent of ${origin}`, ensure: true };
}

function keyOf(partition: PartitionRole, path: string): string {
  return `${partition}:${partition === 'boot' ? path.toLowerCase() : path}`;
}

// Boot before root, directories before what they hold, then by path: the order writers need, and stable output.
function compareEntries(a: PlanEntry, b: PlanEntry): number {
  if (a.partition !== b.partition) return a.partition === 'boot' ? -1 : 1;
  const depth = a.path.split('/').length - b.path.split('/').length;
  if (a.type === 'directory' && b.type === 'directory' && depth !== 0) return depth;
  if ((a.type === 'directory') !== (b.type === 'directory')) return a.type === 'directory' ? -1 : 1;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}
