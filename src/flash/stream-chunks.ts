import type { Readable } from 'node:stream';
import type { Chunk } from './read-pieces.ts';

export interface StreamPosition {
  // Bytes taken from the stream so far; once it ended, its length.
  bytesRead: number;
}

// Cuts an image stream into chunks of its mapped bytes that never cross a range, a segment or `boundary` (the first megabyte).
export async function* streamChunks(stream: Readable, ranges: readonly { start: number; end: number }[] | undefined,
  options: { segmentSize: number; boundary: number; pool: readonly Buffer[] }, position: StreamPosition): AsyncGenerator<Chunk> {
  const { pool } = options;
  const chunkSize = (pool[0] as Buffer).length;
  let turn = 0;
  let staging = pool[0] as Buffer;
  let stagedStart = 0;
  let stagedLength = 0;
  let stagedRange = -1;
  let rangeIndex = 0;
  const flush = (): Chunk => {
    const chunk = { offset: stagedStart, data: staging.subarray(0, stagedLength), range: stagedRange };
    stagedLength = 0;
    turn += 1;
    staging = pool[turn % pool.length] as Buffer;
    return chunk;
  };
  for await (const piece of stream as AsyncIterable<Buffer>) {
    const base = position.bytesRead;
    let at = 0;
    while (at < piece.length) {
      const offset = base + at;
      let index: number;
      let spanEnd: number;
      if (ranges) {
        while (rangeIndex < ranges.length && (ranges[rangeIndex]?.end ?? 0) <= offset) rangeIndex++;
        const range = ranges[rangeIndex];
        if (!range) break;
        if (offset < range.start) {
          at = Math.min(piece.length, range.start - base);
          continue;
        }
        index = rangeIndex;
        spanEnd = range.end;
      } else {
        index = Math.floor(offset / options.segmentSize);
        spanEnd = (index + 1) * options.segmentSize;
      }
      if (offset < options.boundary) spanEnd = Math.min(spanEnd, options.boundary);
      if (stagedLength > 0 && (stagedRange !== index || stagedStart + stagedLength !== offset || (stagedStart < options.boundary) !== (offset < options.boundary))) yield flush();
      if (stagedLength === 0) {
        stagedStart = offset;
        stagedRange = index;
      }
      const take = Math.min(piece.length - at, spanEnd - offset, chunkSize - stagedLength);
      piece.copy(staging, stagedLength, at, at + take);
      stagedLength += take;
      at += take;
      if (stagedLength === chunkSize) yield flush();
    }
    position.bytesRead = base + piece.length;
    if (ranges && rangeIndex >= ranges.length) break;
  }
  if (stagedLength > 0) yield flush();
}
