import { createHash, type Hash } from 'node:crypto';
import { UserError } from '../errors.ts';
import type { BlockMap, MappedRange } from './block-map.ts';
import type { Chunk } from './read-pieces.ts';
import type { NumberedSegment } from './verify-messages.ts';

// How a range is hashed while it is written.
interface RangeHashing {
  // Its bytes are hashed here and compared with the block map's checksum once the range has passed.
  checkAgainstMap: boolean;
  // Its read-back is compared with a sha256 taken here; otherwise with the block map's own sha256.
  hashForReadBack: boolean;
}

// A range whose sha256 the block map already holds is checked on read-back against the map itself; only ranges
// split at the first megabyte (or with another checksum type) are hashed here and compared with the map.
function chooseHashing(range: MappedRange | undefined, map: BlockMap | undefined, headSize: number): RangeHashing {
  const trusted = range?.checksum !== undefined && map?.checksumType === 'sha256';
  const split = range !== undefined && range.start < headSize && range.end > headSize;
  return { checkAgainstMap: Boolean(range?.checksum) && (!trusted || split), hashForReadBack: !trusted || split };
}

interface OpenSegment {
  id: number;
  start: number;
  end: number;
  range: number;
  hash: Hash | undefined;
}

interface OpenCheck {
  range: number;
  hash: Hash;
  end: number;
}

// Cuts the chunks as they are written into the segments read back later (one per range or fixed segment, split at the
// first megabyte, which is written last), and checks each range the map has a checksum for as it passes.
export class SegmentTracker {
  // Closed segments in the first megabyte: read back only after it is written, at the very end.
  readonly head: NumberedSegment[] = [];
  // Bytes in all closed segments (a complete image covers its whole block map).
  bytes = 0;
  private body: NumberedSegment[] = [];
  private nextId = 0;
  private segment: OpenSegment | undefined;
  private check: OpenCheck | undefined;

  constructor(private readonly ranges: readonly MappedRange[] | undefined, private readonly map: BlockMap | undefined,
    private readonly imagePath: string, private readonly headSize: number) {}

  // Adds the next chunk, closing the segment and check it does not continue; returns the id of its segment.
  add(chunk: Chunk): number {
    const end = chunk.offset + chunk.data.length;
    const range = this.ranges?.[chunk.range];
    const inHead = chunk.offset < this.headSize;
    const open = this.segment;
    if (open && (open.range !== chunk.range || open.end !== chunk.offset || (open.start < this.headSize) !== inHead)) this.closeSegment();
    if (this.check && this.check.range !== chunk.range) this.closeCheck();
    const hashing = chooseHashing(range, this.map, this.headSize);
    if (hashing.checkAgainstMap) {
      this.check ??= { range: chunk.range, hash: createHash(this.map?.checksumType ?? 'sha256'), end: chunk.offset };
      this.check.hash.update(chunk.data);
      this.check.end = end;
    }
    this.segment ??= { id: this.nextId++, start: chunk.offset, end: chunk.offset, range: chunk.range, hash: hashing.hashForReadBack ? createHash('sha256') : undefined };
    this.segment.hash?.update(chunk.data);
    this.segment.end = end;
    return this.segment.id;
  }

  // Closes the last segment and check once the image has ended.
  end(): void {
    this.closeSegment();
    this.closeCheck();
  }

  // The closed segments past the first megabyte not taken yet: their spans are all written.
  takeBody(): NumberedSegment[] {
    return this.body.splice(0);
  }

  private closeSegment(): void {
    const { segment } = this;
    if (!segment) return;
    const sha256 = segment.hash ? segment.hash.digest('hex') : (this.ranges?.[segment.range]?.checksum ?? '');
    (segment.start < this.headSize ? this.head : this.body).push({ id: segment.id, start: segment.start, end: segment.end, sha256 });
    this.bytes += segment.end - segment.start;
    this.segment = undefined;
  }

  private closeCheck(): void {
    const { check } = this;
    if (!check) return;
    const range = this.ranges?.[check.range];
    const actual = check.hash.digest('hex');
    if (range?.checksum && (check.end !== range.end || actual !== range.checksum)) {
      throw new UserError(`${this.imagePath} does not match its block map at bytes ${range.start}-${range.end}`,
        'the image changed after its .bmap was made, or it is damaged: rebuild the block map or download the image again; --no-bmap writes it without the map');
    }
    this.check = undefined;
  }
}
