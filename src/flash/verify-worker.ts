import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { ALIGN, findAlignedOffset } from './find-aligned-offset.ts';
import type { VerifyReply, VerifyRequest, VerifyWorkerData } from './verify-messages.ts';

// The thread ReadBackVerifier (verify-target.ts) starts: reading back and hashing run here, beside the writes on the main thread.
const SIZE = 4 * 1024 * 1024;

interface ReadSource {
  handle: FileHandle;
  // Whether reads bypass the page cache (O_DIRECT); then lengths are rounded up to ALIGN.
  direct: boolean;
  buffers: [Buffer, Buffer];
}

if (!parentPort) throw new Error('verify-worker runs only as the worker thread of ReadBackVerifier');
const port = parentPort;
const reply = (message: VerifyReply) => port.postMessage(message);
const opening = openSource((workerData as VerifyWorkerData).path);
const hashes = new Map<number, Hash>();
const queue: VerifyRequest[] = [];
let running = false;

// Reads with O_DIRECT where the target allows it (Node cannot ask for an aligned buffer, so it probes for the aligned
// offset inside a larger one), else buffered.
async function openSource(path: string): Promise<ReadSource> {
  const direct = await open(path, constants.O_RDONLY | constants.O_DIRECT).catch(() => undefined);
  if (direct) {
    const slab = Buffer.allocUnsafeSlow(2 * SIZE + ALIGN);
    const offset = await findAlignedOffset(direct, slab);
    if (offset !== undefined) {
      return { handle: direct, direct: true, buffers: [slab.subarray(offset, offset + SIZE), slab.subarray(offset + SIZE, offset + 2 * SIZE)] };
    }
    await direct.close();
  }
  return { handle: await open(path, 'r'), direct: false, buffers: [Buffer.allocUnsafe(SIZE), Buffer.allocUnsafe(SIZE)] };
}

// Reads the span with the next read in flight while the current buffer is hashed.
async function readSpan(source: ReadSource, span: { id: number; start: number; end: number }): Promise<void> {
  let hash = hashes.get(span.id);
  if (!hash) hashes.set(span.id, (hash = createHash('sha256')));
  const startRead = (offset: number, turn: 0 | 1): Promise<number> => {
    const wanted = Math.min(SIZE, span.end - offset);
    const length = source.direct ? Math.ceil(wanted / ALIGN) * ALIGN : wanted;
    return source.handle.read(source.buffers[turn], 0, length, offset).then(({ bytesRead }) => Math.min(bytesRead, wanted));
  };
  let turn: 0 | 1 = 0;
  let offset = span.start;
  let pending = offset < span.end ? startRead(offset, turn) : undefined;
  while (pending) {
    const got = await pending;
    if (got <= 0) break;
    const buffer = source.buffers[turn];
    offset += got;
    turn = turn === 0 ? 1 : 0;
    pending = offset < span.end ? startRead(offset, turn) : undefined;
    hash.update(buffer.subarray(0, got));
    reply({ type: 'progress', bytes: got });
  }
}

async function handle(source: ReadSource, request: VerifyRequest): Promise<void> {
  if (request.type === 'read') {
    await readSpan(source, request);
  } else if (request.type === 'expect') {
    const hash = hashes.get(request.id) ?? createHash('sha256');
    hashes.delete(request.id);
    if (hash.digest('hex') !== request.sha256) reply({ type: 'mismatch', segment: { start: request.start, end: request.end, sha256: request.sha256 } });
  } else {
    reply({ type: 'finished', sequence: request.sequence });
  }
}

port.on('message', (request: VerifyRequest) => {
  queue.push(request);
  if (running) return;
  running = true;
  // An error is rethrown outside the promise so the worker fails and the main thread's 'error' handler reports it.
  (async () => {
    const source = await opening;
    while (queue.length > 0) await handle(source, queue.shift() as VerifyRequest);
    running = false;
  })().catch((error: unknown) => setImmediate(() => { throw error; }));
});
reply({ type: 'ready', direct: (await opening).direct });
