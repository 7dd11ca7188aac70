import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { blobPath, forgetVerified, keyForUrl, listIndexRecords, removeIndexRecord } from './cache-store.ts';
import { isEntryLocked, tryEntryLock } from './entry-lock.ts';

// One cached blob and every URL known to have served it.
export interface CacheEntry {
  sha256: string;
  size: number;
  // The last time a build used it (the blob's mtime, touched on every cache hit).
  lastUsed: Date;
  urls: string[];
  locked: boolean;
}

// A download that was interrupted and can be resumed.
export interface PartialDownload {
  file: string;
  size: number;
  modified: Date;
  locked: boolean;
}

// What `pikube cache ls` shows.
export interface CacheListing {
  cacheDir: string;
  entries: CacheEntry[];
  partials: PartialDownload[];
}

// Everything in the cache: verified blobs (with the URLs that name them) and partial downloads.
export async function listCache(cacheDir: string): Promise<CacheListing> {
  const records = await listIndexRecords(cacheDir);
  const blobs = await readdir(path.join(cacheDir, 'blobs', 'sha256')).catch(() => [] as string[]);
  const entries: CacheEntry[] = [];
  for (const sha256 of blobs.filter((name) => /^[0-9a-f]{64}$/.test(name))) {
    const info = await stat(blobPath(cacheDir, sha256)).catch(() => undefined);
    if (!info) continue;
    const urls = records.filter((r) => r.sha256 === sha256).map((r) => r.url).sort();
    const locked = (await Promise.all(urls.map((url) => isEntryLocked(cacheDir, keyForUrl(url))))).some(Boolean);
    entries.push({ sha256, size: info.size, lastUsed: info.mtime, urls, locked });
  }
  entries.sort((a, b) => b.lastUsed.getTime() - a.lastUsed.getTime());
  const partialDir = path.join(cacheDir, 'partial');
  const partials: PartialDownload[] = [];
  for (const name of (await readdir(partialDir).catch(() => [] as string[])).filter((n) => n.endsWith('.part'))) {
    const info = await stat(path.join(partialDir, name)).catch(() => undefined);
    if (info) partials.push({ file: path.join(partialDir, name), size: info.size, modified: info.mtime, locked: await isEntryLocked(cacheDir, name.slice(0, -'.part'.length)) });
  }
  return { cacheDir, entries, partials };
}

// What a prune removed, and what it left because a build was using it.
export interface PruneResult {
  removed: { sha256?: string; file: string; size: number }[];
  // Entries left because another pikube holds their lock right now.
  skippedLocked: number;
  freedBytes: number;
}

// Removes entries not used since `olderThan` (all of them with `all`), never one whose lock a live process holds.
export async function pruneCache(cacheDir: string, options: { olderThan?: Date; all?: boolean; dryRun?: boolean }): Promise<PruneResult> {
  const listing = await listCache(cacheDir);
  const cutoff = options.all ? Infinity : (options.olderThan?.getTime() ?? -Infinity);
  const result: PruneResult = { removed: [], skippedLocked: 0, freedBytes: 0 };
  for (const entry of listing.entries.filter((e) => e.lastUsed.getTime() < cutoff)) {
    const releases = [];
    let held = false;
    for (const url of entry.urls) {
      const release = options.dryRun ? (await isEntryLocked(cacheDir, keyForUrl(url)) ? undefined : async () => undefined) : await tryEntryLock(cacheDir, keyForUrl(url), `pruning ${url}`);
      if (!release) held = true;
      else releases.push(release);
    }
    try {
      if (held) {
        result.skippedLocked += 1;
        continue;
      }
      if (!options.dryRun) {
        for (const url of entry.urls) await removeIndexRecord(cacheDir, url);
        await rm(blobPath(cacheDir, entry.sha256), { force: true });
        await forgetVerified(cacheDir, entry.sha256);
      }
      result.removed.push({ sha256: entry.sha256, file: blobPath(cacheDir, entry.sha256), size: entry.size });
      result.freedBytes += entry.size;
    } finally {
      for (const release of releases) await release();
    }
  }
  for (const partial of listing.partials.filter((p) => p.modified.getTime() < cutoff)) {
    const key = path.basename(partial.file, '.part');
    const release = options.dryRun ? (partial.locked ? undefined : async () => undefined) : await tryEntryLock(cacheDir, key, 'pruning a partial download');
    if (!release) {
      result.skippedLocked += 1;
      continue;
    }
    try {
      if (!options.dryRun) await rm(partial.file, { force: true });
      result.removed.push({ file: partial.file, size: partial.size });
      result.freedBytes += partial.size;
    } finally {
      await release();
    }
  }
  return result;
}
