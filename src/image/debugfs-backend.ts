import { truncate } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UserError } from '../errors.ts';
import { throwIfInterrupted } from '../interrupt.ts';
import type { PlanEntry } from '../plan/types.ts';
import { copyRangeSparse } from '../tools/dd.ts';
import { quote, runDebugfs, statExtPaths, type ExtInode } from '../tools/debugfs.ts';
import { punchHole } from '../tools/fallocate.ts';
import { growExt } from '../tools/resize2fs.ts';
import type { ExtBackend } from './backend.ts';
import { resolveParentLinks } from './resolve-ext-paths.ts';
import { verifyExtEntries } from './verify-entries.ts';
import { makeTempFolder, removeTempFolder } from '../temp-folder.ts';

const TYPE_BITS = { directory: 0o040000, file: 0o100000, symlink: 0o120000 } as const;

// Edits ext4 with libext2fs through debugfs, all writes in one batch, no mount and no root.
export const debugfsBackend: ExtBackend = {
  name: 'debugfs',

  // resize2fs cannot work through `?offset=`, so the partition is resized as a file of its own and copied back.
  async grow(target, signal) {
    const dir = await makeTempFolder(dirname(target.image), '.pikube-grow-');
    try {
      const part = join(dir, 'root.ext4');
      await copyRangeSparse(target.image, { offset: target.offset, length: target.size }, part, 0, signal);
      await truncate(part, target.size);
      throwIfInterrupted(signal);
      await growExt(part);
      await punchHole(target.image, target.offset, target.size);
      await copyRangeSparse(part, { offset: 0, length: target.size }, target.image, target.offset, signal);
    } finally {
      await removeTempFolder(dir);
    }
  },

  async write(target, planned, hostPathOf) {
    const volume = { image: target.image, offset: target.offset };
    const { resolved, stats } = await resolveParentLinks(volume, planned.map((e) => e.path));
    const byPath = new Map<string, [PlanEntry, PlanEntry]>();
    for (const entry of planned) {
      const path = resolved.get(entry.path) ?? entry.path;
      byPath.delete(path);
      byPath.set(path, [{ ...entry, path }, entry]);
    }
    const entries = [...byPath.values()].map(([entry]) => entry);
    const original = new Map([...byPath.values()]);
    const existing = new Map(entries.map((e) => [e.path, stats.get(e.path)]));
    const requests = entries.flatMap((entry) => requestsFor(entry, existing.get(entry.path), (e) => hostPathOf(original.get(e) ?? e)));
    if (requests.length > 0) await runDebugfs(volume, requests, { write: true });
    verifyExtEntries(entries, await statExtPaths(volume, entries.map((e) => e.path)));
  },
};

// The requests for one entry, shaped by what is already there: debugfs corrupts the filesystem when asked to
// mkdir or symlink over an existing name, so existing names are removed or kept, never created twice.
function requestsFor(entry: PlanEntry, existing: ExtInode | undefined, hostPathOf: (entry: PlanEntry) => string): string[] {
  const path = quote(entry.path);
  // A parent that the base has as a symlink (/var/run -> /run, /bin -> usr/bin) is followed, not replaced.
  if (entry.type === 'directory' && entry.ensure && existing?.type === 'symlink') return [];
  if (existing?.type === 'directory' && entry.type !== 'directory') throw kindConflict(entry, 'a directory');
  if (existing && existing.type !== 'directory' && entry.type === 'directory') throw kindConflict(entry, `a ${existing.type === 'regular' ? 'file' : existing.type}`);
  const owner = (e: PlanEntry) => [`sif ${path} uid ${e.uid}`, `sif ${path} gid ${e.gid}`];
  switch (entry.type) {
    case 'directory':
      if (existing && entry.ensure) return [];
      return [...(existing ? [] : [`mkdir ${path}`]), `sif ${path} mode 0${(TYPE_BITS.directory | entry.mode).toString(8)}`, ...owner(entry)];
    case 'file':
      return [...(existing ? [`rm ${path}`] : []), `write ${quote(hostPathOf(entry))} ${path}`, `sif ${path} mode 0${(TYPE_BITS.file | entry.mode).toString(8)}`, ...owner(entry)];
    case 'symlink':
      return [...(existing ? [`rm ${path}`] : []), `symlink ${path} ${quote(entry.target)}`, ...owner(entry)];
  }
}

function kindConflict(entry: PlanEntry, what: string): UserError {
  return new UserError(`${entry.origin} wants a ${entry.type} at ${entry.path}, but the base image has ${what} there`,
    'change the path in the recipe or overlay; pikube does not delete directories from the base');
}
