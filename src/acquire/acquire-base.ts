import { stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import type { AcquireOptions } from './acquire-options.ts';
import { findCatalogEntry, getCatalogEntry, loadCatalog, type CatalogEntry } from './catalog.ts';
import { fetchArtifact, type ArtifactCheck } from './fetch-artifact.ts';
import { digestLocalFile } from './local-digest.ts';

// What the recipe says next to `base:`.
export interface BaseSpec {
  sha256?: string;
  checksumUrl?: string;
  // The image inside a zip that holds several.
  entry?: string;
  // Directory that relative paths are taken from (the recipe's); defaults to the working directory.
  baseDir?: string;
}

// A recipe's `base` understood: a catalog name, an https URL, or a local file.
export type ResolvedBase =
  | { kind: 'catalog'; url: string; check: ArtifactCheck; catalog: CatalogEntry; entry?: string }
  | { kind: 'url'; url: string; check: ArtifactCheck; entry?: string }
  | { kind: 'path'; path: string; sha256?: string; entry?: string };

// The base archive on disk and the facts the build record and the image editing need.
export interface AcquiredBase {
  kind: ResolvedBase['kind'];
  // The archive (or plain image) to hand to writeImage.
  archivePath: string;
  sha256: string;
  size: number;
  url?: string;
  fetchedFrom?: string;
  checksumUrl?: string;
  fromCache: boolean;
  catalog?: CatalogEntry;
  entry?: string;
}

// Decides what kind of base the recipe names, without touching the network or the disk.
export function resolveBase(base: string, spec: BaseSpec = {}): ResolvedBase {
  const value = base.trim();
  if (!value) throw new UserError('the recipe\'s `base:` is empty', `name a catalog image (e.g. hypriot), an https URL with a sha256, or a path`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    if (!spec.sha256 && !spec.checksumUrl) {
      throw new UserError(`the base URL ${value} has no sha256`, 'add `sha256: <64 hex digits>` from the publisher beside `base:` (or a checksum file URL), so the download can be verified');
    }
    return { kind: 'url', url: value, check: { sha256: spec.sha256, checksumUrl: spec.checksumUrl }, entry: spec.entry };
  }
  const catalog = findCatalogEntry(value);
  if (catalog) {
    const check: ArtifactCheck = spec.sha256 ? { sha256: spec.sha256 } : 'sha256' in catalog.checksum ? { sha256: catalog.checksum.sha256 } : { checksumUrl: catalog.checksum.url };
    return { kind: 'catalog', url: catalog.url, check, catalog, entry: spec.entry ?? catalog.imageEntry };
  }
  if (!/[/\\.]/.test(value)) getCatalogEntry(value);
  return { kind: 'path', path: path.resolve(spec.baseDir ?? process.cwd(), value), sha256: spec.sha256, entry: spec.entry };
}

// Makes the base available locally: downloaded and verified into the cache, or a local file hashed.
export async function acquireBase(base: string, spec: BaseSpec, options: AcquireOptions): Promise<AcquiredBase> {
  const resolved = resolveBase(base, spec);
  if (resolved.kind === 'path') return useLocalFile(resolved, options);
  const fetched = await fetchArtifact(resolved.url, resolved.check, options);
  return {
    kind: resolved.kind,
    archivePath: fetched.path,
    sha256: fetched.sha256,
    size: fetched.size,
    url: fetched.url,
    fetchedFrom: fetched.fetchedFrom,
    checksumUrl: fetched.checksumUrl,
    fromCache: fetched.fromCache,
    catalog: resolved.kind === 'catalog' ? resolved.catalog : undefined,
    entry: resolved.entry,
  };
}

async function useLocalFile(resolved: Extract<ResolvedBase, { kind: 'path' }>, options: AcquireOptions): Promise<AcquiredBase> {
  const info = await stat(resolved.path).catch(() => undefined);
  if (!info?.isFile()) {
    throw new UserError(`base image ${resolved.path} does not exist${info ? ' or is not a file' : ''}`, `check the path; catalog names are: ${[...loadCatalog().keys()].join(', ')}`);
  }
  const { sha256, size } = await digestLocalFile(resolved.path, options.cacheDir, options.signal);
  const expected = resolved.sha256?.trim().toLowerCase().replace(/^sha256:/, '');
  if (expected && expected !== sha256) {
    throw new UserError(`checksum mismatch for ${resolved.path}: expected sha256 ${expected}, got ${sha256}`, 'the file is not the one the recipe expects: check the file or the sha256 in the recipe');
  }
  return { kind: 'path', archivePath: resolved.path, sha256, size, fromCache: false, entry: resolved.entry };
}
