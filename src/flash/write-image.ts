import { open } from 'node:fs/promises';
import { InterruptedError, ToolError, UserError } from '../errors.ts';
import type { BlockMap, MappedRange } from './block-map.ts';
import { hashFileRange } from '../acquire/hash-file.ts';
import { detectImageFormat, type ImageFormat } from '../acquire/image-format.ts';
import { openImageStream, readImageSize } from '../acquire/open-image-stream.ts';
import { readPieces, splitRanges, type Chunk } from './read-pieces.ts';
import { streamChunks, type StreamPosition } from './stream-chunks.ts';
import { SegmentTracker } from './track-segments.ts';
import { openWriteTarget, type WriteTarget } from './write-target.ts';
import { MAX_INFLIGHT_WRITES, WindowedWriter, type ImagePart } from './write-windows.ts';
import { ReadBackVerifier } from './verify-target.ts';
import type { Segment } from './verify-messages.ts';

// The partition table lives here; it is written last so an interrupted write leaves a card that does not boot.
export const HEAD_SIZE = 1024 * 1024;
const CHUNK_SIZE = 4 * 1024 * 1024;
const SEGMENT_SIZE = 64 * 1024 * 1024;

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

// What the parts of one write share.
interface WriteRun {
  options: WriteImageOptions;
  signal: AbortSignal;
  tracker: SegmentTracker;
  writer: WindowedWriter;
  readBack: ReadBackVerifier | undefined;
  report: () => void;
}

// The chunks of the image in the order they are written, and where the stream has got to.
interface ChunkSource {
  chunks: AsyncGenerator<Chunk>;
  position: StreamPosition;
  close(): Promise<void>;
}

// Measure and clear, write the body in synced windows read back as they go, then the first megabyte; report throughout.
async function writeToTarget(target: WriteTarget, options: WriteImageOptions, signal: AbortSignal): Promise<WriteResult> {
  const { format, imageSize } = await measureImage(options);
  await clearHead(target, options, imageSize);
  const ranges = chooseRanges(options.map, format, imageSize);
  const total = options.map ? options.map.ranges.reduce((sum, r) => sum + r.end - r.start, 0) : imageSize;
  const source = await openChunks(options.imagePath, format, ranges, target.buffers, signal);
  const tracker = new SegmentTracker(ranges, options.map, options.imagePath, HEAD_SIZE);
  const readBack = options.verify ? new ReadBackVerifier(options.target, options.targetIsBlockDevice, () => report()) : undefined;
  const writer = new WindowedWriter(target, options.syncWindowBytes, (writtenUpTo) => readBackWindow(run, writtenUpTo));
  const report = () => options.onProgress?.({ written: writer.written, verified: readBack?.checked ?? 0, verifying: options.verify, total });
  const run: WriteRun = { options, signal, tracker, writer, readBack, report };
  try {
    report();
    const head = await writeBody(run, source);
    if (options.map && tracker.bytes !== total) {
      throw new UserError(`${options.imagePath} ended before the end of its block map`, 'the image is truncated: download or build it again');
    }
    await finishWrite(run, head);
    report();
  } finally {
    await readBack?.close();
  }
  return { format, imageSize: imageSize ?? source.position.bytesRead, bytesWritten: writer.written, verified: options.verify, directIo: target.direct };
}

// The image's size (its block map's when it has one, unknown for some compressed images) and format, refused when
// the map describes another size or the image does not fit on the target.
async function measureImage(options: WriteImageOptions): Promise<{ format: ImageFormat; imageSize: number | undefined }> {
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
  return { format, imageSize };
}

// Zeroes the first megabyte before anything else, so until the end the card has no partition table and does not boot.
async function clearHead(target: WriteTarget, options: WriteImageOptions, imageSize: number | undefined): Promise<void> {
  if (!options.targetIsBlockDevice && imageSize !== undefined) await target.truncate(imageSize);
  await target.write(Buffer.alloc(Math.min(HEAD_SIZE, options.targetSize ?? HEAD_SIZE, imageSize ?? HEAD_SIZE)), 0);
  await target.sync();
}

// The block map's ranges; for a raw image without one, fixed segments; for a compressed one, none (every byte, in
// segments cut by streamChunks).
function chooseRanges(map: BlockMap | undefined, format: ImageFormat, imageSize: number | undefined): MappedRange[] | undefined {
  return map?.ranges ?? (format === 'raw' && imageSize !== undefined ? fixedSegments(imageSize) : undefined);
}

// A raw image is read piece by piece, skipping unmapped ranges; others are decompressed as a stream.
async function openChunks(imagePath: string, format: ImageFormat, ranges: MappedRange[] | undefined, pool: Buffer[], signal: AbortSignal): Promise<ChunkSource> {
  const position: StreamPosition = { bytesRead: 0 };
  if (format === 'raw' && ranges) {
    const reader = await open(imagePath, 'r');
    return { chunks: readPieces(reader, splitRanges(ranges, CHUNK_SIZE, HEAD_SIZE), pool), position, close: () => reader.close() };
  }
  const { stream } = await openImageStream(imagePath, signal);
  return { chunks: streamChunks(stream, ranges, { segmentSize: SEGMENT_SIZE, boundary: HEAD_SIZE, pool }, position), position, close: async () => { stream.destroy(); } };
}

// Writes everything past the first megabyte in windows, each read back after it is synced; returns the first
// megabyte's chunks (copied, as their buffers are reused) to write last.
async function writeBody(run: WriteRun, source: ChunkSource): Promise<ImagePart[]> {
  const { options, signal, tracker, writer, readBack } = run;
  const head: ImagePart[] = [];
  try {
    for await (const chunk of source.chunks) {
      if (signal.aborted) throw new InterruptedError();
      const end = chunk.offset + chunk.data.length;
      if (options.targetSize !== undefined && end > options.targetSize) {
        throw new UserError(`the image is larger than ${options.target} (${options.targetSize} bytes); the card is incomplete`, 'use a larger card');
      }
      const id = tracker.add(chunk);
      if (chunk.offset < HEAD_SIZE) {
        head.push({ offset: chunk.offset, data: Buffer.from(chunk.data) });
        continue;
      }
      readBack?.hold(id, chunk.offset, end);
      await writer.write(chunk);
    }
    tracker.end();
  } finally {
    await writer.settle();
    await source.close();
  }
  return head;
}

// Runs after each window is synced: the test hook, then that window's read-back is queued, and a mismatch found
// in an earlier window stops the write there.
async function readBackWindow(run: WriteRun, writtenUpTo: number): Promise<void> {
  const { options, tracker, readBack } = run;
  await options.afterSync?.(writtenUpTo);
  if (readBack) {
    await readBack.release(tracker.takeBody());
    if (readBack.mismatch) throw await describeMismatch(options, readBack.mismatch);
  }
  run.report();
}

// Syncs and reads back the last window, then writes the first megabyte and reads it back: only a card whose every
// byte matched gets its partition table.
async function finishWrite(run: WriteRun, head: readonly ImagePart[]): Promise<void> {
  const { options, signal, tracker, writer, readBack } = run;
  await writer.sync();
  const bodyMismatch = await readBack?.finish();
  if (bodyMismatch) throw await describeMismatch(options, bodyMismatch);
  if (signal.aborted) throw new InterruptedError();

  await writer.writeAndSync(head);
  if (readBack) {
    for (const { id, start, end } of tracker.head) readBack.hold(id, start, end);
    await readBack.release(tracker.head);
    const headMismatch = await readBack.finish();
    if (headMismatch) throw await describeMismatch(options, headMismatch);
  }
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

// Without a block map a raw image is still hashed in 64 MiB segments, so a failed check names where.
function fixedSegments(size: number): MappedRange[] {
  const segments: MappedRange[] = [];
  for (let start = 0; start < size; start += SEGMENT_SIZE) segments.push({ start, end: Math.min(size, start + SEGMENT_SIZE) });
  return segments;
}
