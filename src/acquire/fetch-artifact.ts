import { rm } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.ts';
import { log } from '../log.ts';
import type { AcquireOptions } from './acquire-options.ts';
import { commitBlob, keyForUrl, partialPath, readIndexRecord, verifyBlob, writeIndexRecord } from './cache-store.ts';
import { parseChecksumFile } from './checksum-file.ts';
import { withEntryLock } from './entry-lock.ts';
import { downloadText, downloadToFile } from './http-download.ts';
import { applyMirror, checkUrlAllowed } from './url-policy.ts';

// How a download is checked: a pinned digest, or the upstream checksum file fetched over https.
export interface ArtifactCheck {
  sha256?: string;
  checksumUrl?: string;
  // The name to look up in the checksum file; defaults to the last path segment of the URL.
  checksumName?: string;
}

// A verified artifact in the cache, with what the build record needs.
export interface FetchedArtifact {
  path: string;
  sha256: string;
  url: string;
  size: number;
  // Where the bytes actually came from (differs from url with a mirror); undefined when served from the cache.
  fetchedFrom?: string;
  checksumUrl?: string;
  fromCache: boolean;
}

// Returns the cached, verified file for url, downloading it first when needed (resumable, locked per entry).
export async function fetchArtifact(url: string, check: ArtifactCheck, options: AcquireOptions): Promise<FetchedArtifact> {
  const pinned = normalizeDigest(check.sha256, url);
  if (!pinned && !check.checksumUrl) {
    throw new UserError(`no checksum for ${url}: pikube only uses downloads it can verify`, 'give its sha256 (e.g. `sha256: <64 hex digits>` beside the URL), or a checksum file URL');
  }
  checkUrlAllowed(applyMirror(url, options.mirror), options.allowHttp);
  const cached = await findCached(url, pinned, check, options);
  if (cached) return cached;
  if (options.offline) {
    throw new UserError(`offline, and the cache (${options.cacheDir}) does not hold ${url}${pinned ? ` (sha256 ${pinned})` : ''}`,
      'run the same command once with network access (or a --mirror) to fill the cache, then use --offline');
  }
  return withEntryLock(options.cacheDir, keyForUrl(url), url, async () => {
    const raced = await findCached(url, pinned, check, options);
    if (raced) return raced;
    return downloadVerified(url, pinned, check, options);
  }, { signal: options.signal });
}

async function findCached(url: string, pinned: string | undefined, check: ArtifactCheck, options: AcquireOptions): Promise<FetchedArtifact | undefined> {
  const record = await readIndexRecord(options.cacheDir, url);
  const sha256 = pinned ?? record?.sha256;
  if (!sha256) return undefined;
  const blob = await useVerifiedBlob(url, sha256, options);
  if (!blob) return undefined;
  if (pinned && !record) {
    await writeIndexRecord(options.cacheDir, { url, sha256: pinned, size: blob.size, fetchedAt: new Date().toISOString(), checksumUrl: check.checksumUrl });
  }
  return { path: blob.path, sha256, url, size: blob.size, checksumUrl: (pinned ? undefined : record?.checksumUrl) ?? check.checksumUrl, fromCache: true };
}

// The cached blob for a digest once its bytes are proven; a damaged one is evicted, then fetched again (online) or
// refused by name (offline), never used.
async function useVerifiedBlob(url: string, sha256: string, options: AcquireOptions): Promise<{ path: string; size: number } | undefined> {
  const checked = await verifyBlob(options.cacheDir, sha256, options.signal);
  if (checked.state === 'ok') return checked;
  if (checked.state === 'missing') return undefined;
  const what = `the cached copy of ${url} (${checked.path}) is damaged: its ${checked.size} bytes hash to sha256 ${checked.actual}, not ${sha256}`;
  if (options.offline) {
    throw new UserError(`${what}; it was removed from the cache`, 'run the same command once with network access (or a --mirror) to download it again, then use --offline; check the disk if this happens again');
  }
  log.warn(`${what}; removed it, downloading it again`);
  return undefined;
}

async function downloadVerified(url: string, pinned: string | undefined, check: ArtifactCheck, options: AcquireOptions): Promise<FetchedArtifact> {
  const settings = { cacheDir: options.cacheDir, allowHttp: options.allowHttp, signal: options.signal, timeoutMs: options.timeoutMs, retries: options.retries, retryDelayMs: options.retryDelayMs };
  let expected = pinned;
  if (!expected && check.checksumUrl) {
    const source = applyMirror(check.checksumUrl, options.mirror);
    const name = check.checksumName ?? decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    expected = parseChecksumFile(await downloadText(source, settings), name, check.checksumUrl);
    log.debug(`${check.checksumUrl}: sha256 of ${name} is ${expected}`);
    const known = await useVerifiedBlob(url, expected, options);
    if (known) {
      await writeIndexRecord(options.cacheDir, { url, sha256: expected, size: known.size, fetchedAt: new Date().toISOString(), checksumUrl: check.checksumUrl });
      return { path: known.path, sha256: expected, url, size: known.size, checksumUrl: check.checksumUrl, fromCache: true };
    }
  }
  if (!expected) throw new UserError(`no checksum for ${url}`);
  const source = applyMirror(url, options.mirror);
  const part = partialPath(options.cacheDir, url);
  const label = path.posix.basename(new URL(url).pathname) || url;
  log.step(`downloading ${url}${source === url ? '' : ` from ${source}`}`);
  let result = await downloadToFile(source, part, { ...settings, label });
  if (result.sha256 !== expected && result.resumedFrom > 0) {
    log.warn(`${label}: the resumed download does not match its checksum; downloading it again from the start`);
    await rm(part, { force: true });
    result = await downloadToFile(source, part, { ...settings, label });
  }
  if (result.sha256 !== expected) {
    await rm(part, { force: true });
    throw new UserError(`checksum mismatch for ${url}: expected sha256 ${expected}, got ${result.sha256} (${result.size} bytes); nothing was kept`,
      check.checksumUrl && !pinned
        ? `the file or its checksum file (${check.checksumUrl}) changed or was damaged on the way; try again, or check the mirror`
        : 'the file changed upstream or was damaged on the way: check the sha256 you gave, try again, or check the mirror');
  }
  const blob = await commitBlob(options.cacheDir, part, expected);
  await writeIndexRecord(options.cacheDir, { url, sha256: expected, size: result.size, fetchedAt: new Date().toISOString(), checksumUrl: check.checksumUrl });
  return { path: blob, sha256: expected, url, size: result.size, fetchedFrom: source, checksumUrl: check.checksumUrl, fromCache: false };
}

function normalizeDigest(sha256: string | undefined, url: string): string | undefined {
  if (sha256 === undefined) return undefined;
  const digest = sha256.trim().toLowerCase().replace(/^sha256:/, '');
  if (!/^[0-9a-f]{64}$/.test(digest)) {
    throw new UserError(`the sha256 given for ${url} is not 64 hex digits: ${sha256}`, 'copy the digest from the publisher\'s checksum file');
  }
  return digest;
}
