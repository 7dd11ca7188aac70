// The messages between ReadBackVerifier (verify-target.ts) and its worker (verify-worker.ts), typed once for both sides.

// A stretch of the target whose bytes must hash to `sha256` when read back.
export interface Segment {
  start: number;
  end: number;
  sha256: string;
}

// A segment as the writer numbers it; its spans are read back under the same id.
export interface NumberedSegment extends Segment {
  id: number;
}

// What the worker is started with.
export interface VerifyWorkerData {
  path: string;
}

// Handled in order: `read` hashes a span of segment `id`, `expect` compares that segment's hash, `finish` answers once all before it are done.
export type VerifyRequest =
  | { type: 'read'; id: number; start: number; end: number }
  | ({ type: 'expect' } & NumberedSegment)
  | { type: 'finish'; sequence: number };

// `ready` once the target is open (saying whether reads bypass the page cache), `progress` per buffer hashed,
// `mismatch` per segment that read back different, `finished` in answer to `finish`.
export type VerifyReply =
  | { type: 'ready'; direct: boolean }
  | { type: 'progress'; bytes: number }
  | { type: 'mismatch'; segment: Segment }
  | { type: 'finished'; sequence: number };
