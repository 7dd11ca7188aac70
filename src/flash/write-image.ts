import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { InterruptedError, ToolError, UserError } from '../errors.ts';
import type { BlockMap, MappedRange } from './block-map.ts';
import { detectImageFormat, type ImageFormat } from '../acquire/image-format.ts';
import { openImageStream, readImageSize } from './image-source.ts';
import { readPieces, splitRanges, type Chunk } from './read-pieces.ts';
import { streamChunks, type StreamPosition } from './stream-chunks.ts';
import { openWriteTarget, type WriteTarget } from './write-target.ts';
import { ReadBackVerifier } from './verify-target.ts';
import type { NumberedSegment, Segment } from './verify-messages.ts';

// The partition table lives here; it is written last so an interrupted write leaves a card that does not boot.
export const HEAD_SIZE = 1024 * 1024;
const CHUNK_SIZE = 4 * 1024 * 1024;
const SEGMENT_SIZE = 64 * 1024 * 1024;
const DEFAULT_SYNC_WINDOW = 32 * 1024 * 1024;
const MIN_SYNC_WINDOW = 8 * 1024 * 1024;
const MAX_SYNC_WINDOW = 256 * 1024 * 1024;
// Writes queued at once; the target's buffer pool (this + 3) is sized so a buffer is never refilled while being written.
const MAX_INFLIGHT_WRITES = 4;

export interface WriteProgress {
  // Bytes written and synced to the target.
  written: number;
  // Bytes read back from the target and compared (stays 0 without verification).
  verified: number;
  verifying: boolean;
  total?: number;
}

export interface WriteImageOptions {
  imagePath: string;
  target: string;
  targetIsBlockDevice: boolean;
  // Refuse to write past this many bytes (the card's size); files grow, so leave it out for them.
  targetSize?: number;
  map?: BlockMap;
  verify: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: WriteProgress) => void;
  syncWindowBytes?: number;
  // Runs after each sync, before that data is read back, with the offset written up to (tests corrupt the target here).
  afterSync?: (writtenUpTo: number) => Promise<void>;
}

export interface WriteResult {
  format: ImageFormat;
  imageSize: number;
  bytesWritten: number;
  verified: boolean;
  // Whether the writes bypassed the page cache (O_DIRECT).
  directIo: boolean;
}

// Streams an image onto a card or file, synced in windows that are read back while the next is written; first megabyte last.
export async function writeImage(options: WriteImageOptions): Promise<WriteResult> {
  const signal = options.signal ?? new AbortController().signal;
  const target = await openWriteTarget(options.target, options.targetIsBlockDevice, MAX_INFLIGHT_WRITES + 3, CHUNK_SIZE);
  try {
    return await writeToTarget(target, options, signal);
  } catch (error) {
    if (signal.aborted && !(error instanceof UserError || error instanceof ToolError)) throw new InterruptedError();
    throw error;
  } finally {
    await target.close();
  }
}

async function writeToTarget(target: WriteTarget, options: WriteImageOptions, signal: AbortSignal): Promise<WriteResult> {
  const { map } = options;
  const format = await detectImageFormat(options.imagePath);
  const sourceSize = await readImageSize(options.imagePath);
  const imageSize = map?.imageSize ?? sourceSize;
  if (map && sourceSize !== undefined && sourceSize !== map.imageSize) {
    throw new UserError(`${options.imagePath} is ${sourceSize} bytes but its block map describes ${map.imageSize} bytes`,
      'the image changed after its .bmap was made: rebuild the block map, or flash without it (--no-bmap)');
  }
  if (imageSize !== undefined && options.targetSize !== undefined && imageSize > options.targetSize) {
    throw new UserError(`the image (${imageSize} bytes) does not fit on ${options.target} (${options.targetSize} bytes)`, 'use a larger card');
  }
  if (!options.targetIsBlockDevice && imageSize !== undefined) await target.truncate(imageSize);
  await target.write(Buffer.alloc(Math.min(HEAD_SIZE, options.targetSize ?? HEAD_SIZE, imageSize ?? HEAD_SIZE)), 0);
  await target.sync();

  const ranges: MappedRange[] | undefined = map?.ranges ?? (format === 'raw' && imageSize !== undefined ? fixedSegments(imageSize) : undefined);
  const total = map ? map.ranges.reduce((sum, r) => sum + r.end - r.start, 0) : imageSize;
  const position: StreamPosition = { bytesRead: 0 };
  let chunks: AsyncGenerator<Chunk>;
  let reader: FileHandle | undefined;
  let stream: Readable | undefined;
  if (format === 'raw' && ranges) {
    reader = await open(options.imagePath, 'r');
    chunks = readPieces(reader, splitRanges(ranges, CHUNK_SIZE, HEAD_SIZE), target.buffers);
  } else {
    stream = (await openImageStream(options.imagePath, signal)).stream;
    chunks = streamChunks(stream, ranges, { segmentSize: SEGMENT_SIZE, boundary: HEAD_SIZE, pool: target.buffers }, position);
  }

  const head: { offset: number; data: Buffer }[] = [];
  const headSegments: NumberedSegment[] = [];
  const pendingExpects: NumberedSegment[] = [];
  const inflight: Promise<void>[] = [];
  let window = options.syncWindowBytes ?? DEFAULT_SYNC_WINDOW;
  let windowStarted = performance.now();
  let written = 0;
  let unsynced = 0;
  let writtenUpTo = 0;
  let segmentBytes = 0;
  let nextId = 0;
  let segment: { id: number; start: number; end: number; range: number; hash: Hash | undefined } | undefined;
  let check: { range: number; hash: Hash; end: number } | undefined;
  const verifier = options.verify ? new ReadBackVerifier(options.target, options.targetIsBlockDevice, () => report()) : undefined;
  const report = () => options.onProgress?.({ written, verified: verifier?.checked ?? 0, verifying: options.verify, total });
  const closeSegment = () => {
    if (!segment) return;
    const range = ranges?.[segment.range];
    const closed = { start: segment.start, end: segment.end, sha256: segment.hash ? segment.hash.digest('hex') : (range?.checksum ?? '') };
    (closed.start < HEAD_SIZE ? headSegments : pendingExpects).push({ id: segment.id, ...closed });
    segmentBytes += closed.end - closed.start;
    segment = undefined;
  };
  const closeCheck = () => {
    if (!check) return;
    const range = ranges?.[check.range];
    const actual = check.hash.digest('hex');
    if (range?.checksum && (check.end !== range.end || actual !== range.checksum)) {
      throw new UserError(`${options.imagePath} does not match its block map at bytes ${range.start}-${range.end}`,
        'the image changed after its .bmap was made, or it is damaged: rebuild the block map or download the image again; --no-bmap writes it without the map');
    }
    check = undefined;
  };
  // Everything written so far reaches the card; then it is queued for reading back, past the cache.
  const sync = async () => {
    await Promise.all(inflight.splice(0));
    await target.sync();
    if (!options.syncWindowBytes && unsynced > 0) window = adaptWindow(unsynced, performance.now() - windowStarted);
    windowStarted = performance.now();
    unsynced = 0;
    await options.afterSync?.(writtenUpTo);
    if (verifier) {
      await verifier.release(pendingExpects.splice(0));
      if (verifier.mismatch) throw await describeMismatch(options, verifier.mismatch);
    }
    report();
  };

  try {
    report();
    try {
      for await (const chunk of chunks) {
        if (signal.aborted) throw new InterruptedError();
        const end = chunk.offset + chunk.data.length;
        if (options.targetSize !== undefined && end > options.targetSize) {
          throw new UserError(`the image is larger than ${options.target} (${options.targetSize} bytes); the card is incomplete`, 'use a larger card');
        }
        const range = ranges?.[chunk.range];
        const inHead = chunk.offset < HEAD_SIZE;
        if (segment && (segment.range !== chunk.range || segment.end !== chunk.offset || (segment.start < HEAD_SIZE) !== inHead)) closeSegment();
        if (check && check.range !== chunk.range) closeCheck();
        // A range whose sha256 the block map already holds is checked on read-back against the map itself; only ranges
        // split at the first megabyte (or with another checksum type) are hashed here and compared with the map.
        const trusted = range?.checksum !== undefined && map?.checksumType === 'sha256';
        const split = range !== undefined && range.start < HEAD_SIZE && range.end > HEAD_SIZE;
        if (range?.checksum && (!trusted || split)) {
          check ??= { range: chunk.range, hash: createHash(map?.checksumType ?? 'sha256'), end: chunk.offset };
          check.hash.update(chunk.data);
          check.end = end;
        }
        segment ??= { id: nextId++, start: chunk.offset, end: chunk.offset, range: chunk.range, hash: trusted && !split ? undefined : createHash('sha256') };
        segment.hash?.update(chunk.data);
        segment.end = end;

        if (inHead) {
          head.push({ offset: chunk.offset, data: Buffer.from(chunk.data) });
          continue;
        }
        verifier?.hold(segment.id, chunk.offset, end);
        if (inflight.length >= MAX_INFLIGHT_WRITES) await inflight.shift();
        inflight.push(target.write(chunk.data, chunk.offset));
        written += chunk.data.length;
        unsynced += chunk.data.length;
        writtenUpTo = end;
        if (unsynced >= window) await sync();
      }
      closeSegment();
      closeCheck();
    } finally {
      await Promise.allSettled(inflight);
      await reader?.close();
      stream?.destroy();
    }
    if (map && segmentBytes !== total) {
      throw new UserError(`${options.imagePath} ended before the end of its block map`, 'the image is truncated: download or build it again');
    }
    await sync();
    const bodyMismatch = await verifier?.finish();
    if (bodyMismatch) throw await describeMismatch(options, bodyMismatch);
    if (signal.aborted) throw new InterruptedError();

    for (const part of head) await target.write(part.data, part.offset);
    await target.sync();
    written += head.reduce((sum, part) => sum + part.data.length, 0);
    if (verifier) {
      for (const { id, start, end } of headSegments) verifier.hold(id, start, end);
      await verifier.release(headSegments);
      const headMismatch = await verifier.finish();
      if (headMismatch) throw await describeMismatch(options, headMismatch);
    }
    report();
  } finally {
    await verifier?.close();
  }
  return { format, imageSize: imageSize ?? position.bytesRead, bytesWritten: written, verified: options.verify, directIo: target.direct };
}

// When a range checked against the block map reads back different, the image itself is hashed to tell a bad image from a bad card.
async function describeMismatch(options: WriteImageOptions, bad: Segment): Promise<Error> {
  if (options.map && (await detectImageFormat(options.imagePath)) === 'raw' && (await hashFileRange(options.imagePath, bad.start, bad.end)) !== bad.sha256) {
    return new UserError(`${options.imagePath} does not match its block map at bytes ${bad.start}-${bad.end}; ${options.target} is incomplete`,
      'the image changed after its .bmap was made, or it is damaged: rebuild the block map or get the image again; --no-bmap writes it without the map');
  }
  return new ToolError({
    command: `read-back of ${options.target}`,
    message: `verification failed: bytes ${bad.start}-${bad.end} read back from ${options.target} differ from the image; the card is incomplete`,
    hint: 'the card may be failing or counterfeit: try flashing again, then another card',
  });
}

async function hashFileRange(path: string, start: number, end: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    for await (const chunk of readPieces(handle, splitRanges([{ start, end }], CHUNK_SIZE, 0), [0, 1, 2].map(() => Buffer.allocUnsafe(CHUNK_SIZE)))) hash.update(chunk.data);
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

// About half a second of writing between syncs: progress and Ctrl-C stay prompt on a slow card, and a fast target
// is not held back by flushing every few megabytes.
function adaptWindow(bytes: number, milliseconds: number): number {
  const perHalfSecond = milliseconds > 0 ? (bytes / milliseconds) * 500 : MAX_SYNC_WINDOW;
  return Math.min(MAX_SYNC_WINDOW, Math.max(MIN_SYNC_WINDOW, Math.round(perHalfSecond / 1048576) * 1048576));
}

// Without a block map a raw image is still hashed in 64 MiB segments, so a failed check names where.
function fixedSegments(size: number): MappedRange[] {
  const segments: MappedRange[] = [];
  for (let start = 0; start < size; start += SEGMENT_SIZE) segments.push({ start, end: Math.min(size, start + SEGMENT_SIZE) });
  return segments;
}
