import type { FileHandle } from 'node:fs/promises';

export interface Piece {
  offset: number;
  length: number;
  // Index of the mapped range (or fixed-size segment) the piece belongs to.
  range: number;
}

export interface Chunk {
  offset: number;
  data: Buffer;
  range: number;
}

// Reads pieces into the pool's buffers with one read in flight ahead; a buffer is refilled after `pool.length - 1` more pieces.
export async function* readPieces(handle: FileHandle, pieces: Iterable<Piece>, pool: readonly Buffer[]): AsyncGenerator<Chunk> {
  const iterator = pieces[Symbol.iterator]();
  let turn = 0;
  const readNext = (): Promise<Chunk> | undefined => {
    const next = iterator.next();
    if (next.done) return undefined;
    const piece = next.value;
    const buffer = pool[turn++ % pool.length] as Buffer;
    return readFully(handle, buffer, piece.length, piece.offset).then((data) => ({ offset: piece.offset, data, range: piece.range }));
  };
  let pending = readNext();
  while (pending) {
    const chunk = await pending;
    pending = readNext();
    yield chunk;
  }
}

async function readFully(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<Buffer> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

// Splits byte ranges into pieces of at most `maxLength` that never cross the `boundary` offset (the held-back first megabyte).
export function* splitRanges(ranges: readonly { start: number; end: number }[], maxLength: number, boundary: number): Generator<Piece> {
  for (const [index, range] of ranges.entries()) {
    for (let offset = range.start; offset < range.end;) {
      const limit = offset < boundary ? Math.min(range.end, boundary) : range.end;
      const length = Math.min(maxLength, limit - offset);
      yield { offset, length, range: index };
      offset += length;
    }
  }
}
