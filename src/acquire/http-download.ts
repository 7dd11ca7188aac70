import { createHash, type Hash } from 'node:crypto';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import got, { type Response } from 'got';
import { log } from '../log.ts';
import { DEFAULT_TIMEOUT_MS } from './acquire-options.ts';
import { explainDownloadError } from './download-errors.ts';
import { hashFilePrefix } from './hash-file.ts';
import { startProgress } from './progress-report.ts';
import { retryTransient } from './retry-policy.ts';
import { checkUrlAllowed } from './url-policy.ts';
import { waitForResponse } from './wait-for-response.ts';

// How one transfer behaves; `label` names it in progress lines.
export interface DownloadSettings {
  label: string;
  cacheDir: string;
  allowHttp?: boolean;
  signal?: AbortSignal;
  timeoutMs?: number;
  retries?: number;
  retryDelayMs?: number;
}

// The finished file's size and digest.
export interface DownloadResult {
  size: number;
  sha256: string;
  // Bytes that were already on disk from an earlier, interrupted run.
  resumedFrom: number;
}

// Appends a URL's body to `file` while hashing it, resuming what is already there with a Range request,
// retrying transient failures with backoff; the file always holds exactly the bytes the hash has seen.
export async function downloadToFile(url: string, file: string, settings: DownloadSettings): Promise<DownloadResult> {
  checkUrlAllowed(url, settings.allowHttp);
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'a');
  const state = { hash: createHash('sha256'), bytes: 0, total: undefined as number | undefined, validator: undefined as string | undefined };
  const resumedFrom = (await handle.stat()).size;
  const progress = startProgress(settings.label);
  let before = 0;
  try {
    await retryTransient(async () => {
      await resyncHash(handle, file, state);
      before = state.bytes;
      await fetchOnce(url, handle, state, settings, (bytes) => progress.update(bytes, state.total));
    }, settings, {
      label: settings.label,
      progressed: () => state.bytes > before,
      resumeNote: () => ` from byte ${state.bytes}`,
      explain: (error, attempts) => explainDownloadError(error, url, attempts, settings.cacheDir),
    });
    progress.finish();
    return { size: state.bytes, sha256: state.hash.digest('hex'), resumedFrom };
  } finally {
    await handle.close();
  }
}

interface TransferState {
  hash: Hash;
  bytes: number;
  total: number | undefined;
  validator: string | undefined;
}

// One request: resolves when the file is complete, an error (often transient) otherwise.
async function fetchOnce(url: string, handle: FileHandle, state: TransferState, settings: DownloadSettings, onBytes: (bytes: number) => void): Promise<void> {
  const timeout = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const headers: Record<string, string> = {};
  if (state.bytes > 0) {
    headers.range = `bytes=${state.bytes}-`;
    if (state.validator) headers['if-range'] = state.validator;
  }
  const stream = got.stream(url, {
    headers,
    decompress: false,
    retry: { limit: 0 },
    timeout: { lookup: timeout, connect: timeout, secureConnect: timeout, socket: timeout, response: timeout },
    signal: settings.signal,
    hooks: { beforeRedirect: [(options) => checkUrlAllowed(String(options.url), settings.allowHttp)] },
  });
  let response: Response;
  try {
    response = await waitForResponse(stream);
  } catch (error) {
    stream.destroy();
    if (state.bytes > 0 && isRangeComplete(error, state.bytes)) return;
    throw error;
  }
  if (response.statusCode === 206) {
    const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(response.headers['content-range'] ?? ''));
    if (!range || Number(range[1]) !== state.bytes) {
      stream.destroy();
      await restartFromZero(handle, state);
      throw Object.assign(new Error(`server resumed at the wrong offset (${String(response.headers['content-range'])})`), { code: 'ECONNRESET' });
    }
    if (range[2] !== '*') state.total = Number(range[2]);
  } else {
    if (state.bytes > 0) {
      log.debug(`${url}: server ignored the Range request; starting over`);
      await restartFromZero(handle, state);
    }
    const length = Number(response.headers['content-length']);
    state.total = Number.isFinite(length) && response.headers['content-length'] !== undefined ? length : undefined;
  }
  const etag = response.headers.etag;
  state.validator = etag && !etag.startsWith('W/') ? etag : response.headers['last-modified'];
  const appender = new HashingAppender(handle, state, onBytes);
  try {
    await pipeline(stream, appender);
  } finally {
    await appender.pending;
  }
  if (state.total !== undefined && state.bytes < state.total) {
    throw Object.assign(new Error(`connection closed after ${state.bytes} of ${state.total} bytes`), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
  }
}

// 416 to a Range starting exactly at the end: the earlier run had everything already.
function isRangeComplete(error: unknown, bytes: number): boolean {
  const response = (error as { response?: { statusCode?: number; headers?: Record<string, string> } }).response;
  if (response?.statusCode !== 416) return false;
  return /^bytes \*\/(\d+)$/.exec(response.headers?.['content-range'] ?? '')?.[1] === String(bytes);
}

async function restartFromZero(handle: FileHandle, state: TransferState): Promise<void> {
  await handle.truncate(0);
  state.hash = createHash('sha256');
  state.bytes = 0;
}

// The hash must cover exactly the bytes on disk; after a failed write they may differ, so read them again.
async function resyncHash(handle: FileHandle, file: string, state: TransferState): Promise<void> {
  const size = (await handle.stat()).size;
  if (size === state.bytes) return;
  ({ hash: state.hash, size: state.bytes } = await hashFilePrefix(file, size));
}

// Writes each batch of chunks, then hashes it: the hash never runs ahead of the file.
class HashingAppender extends Writable {
  // The write in flight, so a failed transfer is only retried once the file and hash agree again.
  pending: Promise<void> = Promise.resolve();

  constructor(private readonly handle: FileHandle, private readonly state: TransferState, private readonly onBytes: (bytes: number) => void) {
    super({ highWaterMark: 1 << 20 });
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    const length = buffers.reduce((sum, b) => sum + b.length, 0);
    this.pending = this.handle.writev(buffers).then(({ bytesWritten }) => {
      if (bytesWritten !== length) throw Object.assign(new Error(`short write (${bytesWritten} of ${length} bytes)`), { code: 'ENOSPC' });
      for (const buffer of buffers) this.state.hash.update(buffer);
      this.state.bytes += length;
      this.onBytes(this.state.bytes);
      callback();
    }, (error: Error) => callback(error));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }
}

// Small text files (checksum lists) with the same retry and transport rules as big downloads.
export async function downloadText(url: string, settings: Omit<DownloadSettings, 'label'>): Promise<string> {
  checkUrlAllowed(url, settings.allowHttp);
  const timeout = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return retryTransient(() => got(url, {
    retry: { limit: 0 },
    timeout: { lookup: timeout, connect: timeout, secureConnect: timeout, socket: timeout, response: timeout },
    signal: settings.signal,
    hooks: { beforeRedirect: [(options) => checkUrlAllowed(String(options.url), settings.allowHttp)] },
  }).text(), settings, { label: url, explain: (error, attempts) => explainDownloadError(error, url, attempts, settings.cacheDir) });
}
