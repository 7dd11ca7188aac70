import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { hashFile } from './hash-file.ts';

export interface LocalFile {
  hostPath: string;
  size: number;
  mode: number;
  sha256: string;
}

export type OverlayItem =
  | ({ kind: 'file'; relative: string } & LocalFile)
  | { kind: 'directory'; relative: string; mode: number }
  | { kind: 'symlink'; relative: string; target: string };

// Reads what a recipe `source:` points at, failing with the recipe's own words when it is missing.
export async function readLocalFile(path: string, where: string): Promise<LocalFile> {
  const stats = await lstat(path).catch(() => undefined);
  if (!stats?.isFile()) {
    throw new UserError(`${where}: ${path} ${stats ? 'is not a regular file' : 'does not exist'}`, 'paths in the recipe are relative to the recipe file');
  }
  return { hostPath: path, size: stats.size, mode: stats.mode & 0o7777, sha256: (await hashFile(path)).sha256 };
}

// Walks an overlay folder in a stable order; the image gets its files, folders and symlinks as they are.
export async function readOverlay(root: string): Promise<OverlayItem[]> {
  const stats = await lstat(root).catch(() => undefined);
  if (!stats?.isDirectory()) {
    throw new UserError(`overlay: ${root} ${stats ? 'is not a folder' : 'does not exist'}`, 'overlay names a folder whose tree is merged into the root partition (boot/ into the boot partition)');
  }
  const items: OverlayItem[] = [];
  const walk = async (relative: string): Promise<void> => {
    const names = (await readdir(join(root, relative))).sort();
    for (const name of names) {
      const child = posix.join(relative, name);
      const hostPath = join(root, child);
      const info = await lstat(hostPath);
      if (info.isDirectory()) {
        items.push({ kind: 'directory', relative: child, mode: info.mode & 0o7777 });
        await walk(child);
      } else if (info.isSymbolicLink()) {
        items.push({ kind: 'symlink', relative: child, target: await readlink(hostPath) });
      } else if (info.isFile()) {
        items.push({ kind: 'file', relative: child, hostPath, size: info.size, mode: info.mode & 0o7777, sha256: (await hashFile(hostPath)).sha256 });
      } else {
        throw new UserError(`overlay: ${hostPath} is a device, socket or pipe`, 'an overlay holds only files, folders and symlinks');
      }
    }
  };
  await walk('');
  return items;
}

export interface RecipeInputs {
  overlay: OverlayItem[];
  // Recipe `files[i].source`, read and hashed, by index.
  sources: Map<number, LocalFile>;
}

// Every local file a recipe names (its overlay tree and `files[].source`), read and hashed; the build starts this
// while the base is still being unpacked.
export async function readRecipeInputs(recipe: { overlay?: string; files: Array<{ source?: string }> }, directory: string): Promise<RecipeInputs> {
  const overlay = recipe.overlay ? await readOverlay(resolve(directory, recipe.overlay)) : [];
  const sources = new Map<number, LocalFile>();
  for (const [i, file] of recipe.files.entries()) {
    if (file.source !== undefined) sources.set(i, await readLocalFile(resolve(directory, file.source), `files[${i}].source`));
  }
  return { overlay, sources };
}
