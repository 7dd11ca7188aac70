import { Worker } from 'node:worker_threads';

export interface Segment {
  start: number;
  end: number;
  sha256: string;
}

// Plain JavaScript, so the worker runs without the TypeScript loader. It reads with O_DIRECT where the target allows it
// (Node cannot ask for an aligned buffer, so it probes for the aligned offset inside a larger one), else buffered.
// Messages are handled in order: `read` hashes a span of a segment, `expect` compares the segment's hash, `finish` answers.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { promisify } = require('node:util');
const { createHash } = require('node:crypto');
const read = promisify(fs.read);
const SIZE = 4 * 1024 * 1024;
const ALIGN = 4096;
let fd;
let buffers;
try {
  fd = fs.openSync(workerData.path, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
  const big = Buffer.allocUnsafeSlow(2 * SIZE + ALIGN);
  for (let offset = 0; offset < ALIGN && !buffers; offset += 8) {
    try {
      fs.readSync(fd, big, offset, ALIGN, 0);
      buffers = [big.subarray(offset, offset + SIZE), big.subarray(offset + SIZE, offset + 2 * SIZE)];
    } catch {}
  }
  if (!buffers) throw new Error('no aligned buffer');
} catch {
  if (fd !== undefined) fs.closeSync(fd);
  fd = fs.openSync(workerData.path, 'r');
  buffers = undefined;
}
const direct = buffers !== undefined;
buffers ??= [Buffer.allocUnsafe(SIZE), Buffer.allocUnsafe(SIZE)];
const hashes = new Map();
const queue = [];
let running = false;

// Reads the span with the next read in flight while the current buffer is hashed.
async function readSpan(message) {
  let hash = hashes.get(message.id);
  if (!hash) hashes.set(message.id, hash = createHash('sha256'));
  const start = (offset, turn) => {
    const wanted = Math.min(SIZE, message.end - offset);
    const length = direct ? Math.ceil(wanted / ALIGN) * ALIGN : wanted;
    return read(fd, buffers[turn], 0, length, offset).then(({ bytesRead }) => Math.min(bytesRead, wanted));
  };
  let turn = 0;
  let offset = message.start;
  let pending = offset < message.end ? start(offset, turn) : undefined;
  while (pending) {
    const got = await pending;
    if (got <= 0) break;
    const buffer = buffers[turn];
    offset += got;
    turn = 1 - turn;
    pending = offset < message.end ? start(offset, turn) : undefined;
    hash.update(buffer.subarray(0, got));
    parentPort.postMessage({ type: 'progress', bytes: got });
  }
}

async function handle(message) {
  if (message.type === 'read') {
    await readSpan(message);
  } else if (message.type === 'expect') {
    const hash = hashes.get(message.id) ?? createHash('sha256');
    hashes.delete(message.id);
    if (hash.digest('hex') !== message.sha256) parentPort.postMessage({ type: 'mismatch', start: message.start, end: message.end, sha256: message.sha256 });
  } else if (message.type === 'finish') {
    parentPort.postMessage({ type: 'finished', sequence: message.sequence });
  }
}

parentPort.on('message', (message) => {
  queue.push(message);
  if (running) return;
  running = true;
  // An error is rethrown outside the promise so the worker fails and the main thread's 'error' handler reports it.
  (async () => {
    while (queue.length > 0) await handle(queue.shift());
    running = false;
  })().catch((error) => setImmediate(() => { throw error; }));
});
parentPort.postMessage({ type: 'ready', direct });
`;

interface WorkerMessage {
  type: 'ready' | 'progress' | 'mismatch' | 'finished';
  direct?: boolean;
  bytes?: number;
  start?: number;
  end?: number;
  sha256?: string;
  sequence?: number;
}

// Reads synced data back from the target in a worker thread while the next data is written, comparing sha256 per segment.
export class ReadBackVerifier {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, () => void>();
  private sequence = 0;
  private failure: Error | undefined;
  // Whether reads bypass the page cache (O_DIRECT); without it a block device's cache must be dropped before each read-back.
  readonly direct: Promise<boolean>;
  // The first segment that read back different, once one did.
  mismatch: Segment | undefined;
  checked = 0;

  constructor(target: string, onChecked: (bytes: number) => void) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: target } });
    let ready: (direct: boolean) => void = () => {};
    this.direct = new Promise((resolve) => { ready = resolve; });
    this.worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') {
        ready(message.direct === true);
      } else if (message.type === 'progress') {
        this.checked += message.bytes ?? 0;
        onChecked(this.checked);
      } else if (message.type === 'mismatch') {
        this.mismatch ??= { start: message.start ?? 0, end: message.end ?? 0, sha256: message.sha256 ?? '' };
      } else if (message.sequence !== undefined) {
        this.waiting.get(message.sequence)?.();
        this.waiting.delete(message.sequence);
      }
    });
    this.worker.on('error', (error) => {
      this.failure = error;
      ready(false);
      for (const resolve of this.waiting.values()) resolve();
    });
  }

  // Queues bytes [start, end) of segment `id` for reading back; a segment's spans must be queued in order.
  read(id: number, start: number, end: number): void {
    this.worker.postMessage({ type: 'read', id, start, end });
  }

  // Queues the comparison of segment `id` with its expected sha256, after its last span.
  expect(id: number, segment: Segment): void {
    this.worker.postMessage({ type: 'expect', id, ...segment });
  }

  // Resolves once everything queued so far was read back and compared.
  async finish(): Promise<Segment | undefined> {
    const sequence = ++this.sequence;
    await new Promise<void>((resolve) => {
      this.waiting.set(sequence, resolve);
      this.worker.postMessage({ type: 'finish', sequence });
    });
    if (this.failure) throw this.failure;
    return this.mismatch;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
