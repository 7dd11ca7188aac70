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
const { createHash } = require('node:crypto');
const SIZE = 4 * 1024 * 1024;
const ALIGN = 4096;
let fd;
let buffer;
try {
  fd = fs.openSync(workerData.path, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
  const big = Buffer.allocUnsafeSlow(SIZE + ALIGN);
  for (let offset = 0; offset < ALIGN && !buffer; offset += 8) {
    try {
      fs.readSync(fd, big, offset, ALIGN, 0);
      buffer = big.subarray(offset, offset + SIZE);
    } catch {}
  }
  if (!buffer) throw new Error('no aligned buffer');
} catch {
  if (fd !== undefined) fs.closeSync(fd);
  fd = fs.openSync(workerData.path, 'r');
  buffer = undefined;
}
const direct = buffer !== undefined;
buffer ??= Buffer.allocUnsafe(SIZE);
parentPort.postMessage({ type: 'ready', direct });
const hashes = new Map();
parentPort.on('message', (message) => {
  if (message.type === 'read') {
    let hash = hashes.get(message.id);
    if (!hash) hashes.set(message.id, hash = createHash('sha256'));
    for (let offset = message.start; offset < message.end;) {
      const wanted = Math.min(SIZE, message.end - offset);
      const length = direct ? Math.ceil(wanted / ALIGN) * ALIGN : wanted;
      const read = Math.min(fs.readSync(fd, buffer, 0, length, offset), wanted);
      if (read <= 0) break;
      hash.update(buffer.subarray(0, read));
      offset += read;
      parentPort.postMessage({ type: 'progress', bytes: read });
    }
  } else if (message.type === 'expect') {
    const hash = hashes.get(message.id) ?? createHash('sha256');
    hashes.delete(message.id);
    if (hash.digest('hex') !== message.sha256) parentPort.postMessage({ type: 'mismatch', start: message.start, end: message.end, sha256: message.sha256 });
  } else if (message.type === 'finish') {
    parentPort.postMessage({ type: 'finished', sequence: message.sequence });
  }
});
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
