import { symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlanEntry } from '../plan/types.ts';
import { makeTempFolder, removeTempFolder } from '../temp-folder.ts';

export interface Staging extends AsyncDisposable {
  hostPathOf(entry: PlanEntry): string;
}

// Gives every file entry a host path with a plain name: text is written out, host files are linked to,
// so tools that take arguments as text (debugfs) never see quotes or spaces from users' file names.
export async function stageContents(entries: readonly PlanEntry[]): Promise<Staging> {
  const dir = await makeTempFolder(tmpdir(), 'pikube-stage-');
  const paths = new Map<PlanEntry, string>();
  try {
    let index = 0;
    for (const entry of entries) {
      if (entry.type !== 'file') continue;
      const path = join(dir, `f${index++}`);
      if (entry.content.kind === 'text') await writeFile(path, entry.content.text);
      else await symlink(entry.content.path, path);
      paths.set(entry, path);
    }
  } catch (error) {
    await removeTempFolder(dir);
    throw error;
  }
  return {
    hostPathOf(entry) {
      const path = paths.get(entry);
      if (!path) throw new Error(`no staged content for ${entry.path}`);
      return path;
    },
    async [Symbol.asyncDispose]() {
      await removeTempFolder(dir);
    },
  };
}
