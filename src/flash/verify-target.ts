import { Worker } from 'node:worker_threads';
import { InternalError, ToolError } from '../errors.ts';
import { flushBlockDeviceBuffers } from '../tools/blockdev.ts';
import type { NumberedSegment, Segment, VerifyReply, VerifyRequest, VerifyWorkerData } from './verify-messages.ts';

// Reads synced data back from the target in a worker thread (verify-worker.ts) while the next data is written, comparing
// sha256 per segment. Spans are held until their window is synced, then released to the worker with the segments that closed.
export class ReadBackVerifier {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, () => void>();
  private readonly held: { id: number; start: number; end: number }[] = [];
  private sequence = 0;
  private failure: Error | undefined;
  // Whether reads bypass the page cache (O_DIRECT); without it a block device's cache must be dropped before each read-back.
  private readonly direct: Promise<boolean>;
  // The first segment that read back different, once one did.
  mismatch: Segment | undefined;
  checked = 0;

  constructor(private readonly target: string, private readonly targetIsBlockDevice: boolean, onChecked: (bytes: number) => void) {
    this.worker = startVerifyWorker({ path: target });
    let ready: (direct: boolean) => void = () => {};
    this.direct = new Promise((resolve) => { ready = resolve; });
    this.worker.on('message', (reply: VerifyReply) => {
      if (reply.type === 'ready') {
        ready(reply.direct);
      } else if (reply.type === 'progress') {
        this.checked += reply.bytes;
        onChecked(this.checked);
      } else if (reply.type === 'mismatch') {
        this.mismatch ??= reply.segment;
      } else {
        this.waiting.get(reply.sequence)?.();
        this.waiting.delete(reply.sequence);
      }
    });
    // A worker that failed (or stopped) answers nothing more: whoever waits is woken to throw its failure.
    const fail = (error: Error) => {
      this.failure ??= describeWorkerFailure(target, error);
      ready(false);
      for (const resolve of this.waiting.values()) resolve();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new InternalError(`the read-back of ${target} stopped (worker exit ${code})`)));
  }

  // Remembers bytes [start, end) of segment `id` as written but not yet synced; a segment's spans must come in order.
  hold(id: number, start: number, end: number): void {
    const last = this.held.at(-1);
    if (last && last.id === id && last.end === start) last.end = end;
    else this.held.push({ id, start, end });
  }

  // Once everything held is on the target: queues it for reading back, past the cache, then the comparisons of `closed`.
  async release(closed: readonly NumberedSegment[]): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.targetIsBlockDevice && !(await this.direct)) await flushBlockDeviceBuffers(this.target);
    for (const span of this.held.splice(0)) this.send({ type: 'read', ...span });
    for (const segment of closed) this.send({ type: 'expect', ...segment });
  }

  // Resolves once everything queued so far was read back and compared.
  async finish(): Promise<Segment | undefined> {
    if (this.failure) throw this.failure;
    const sequence = ++this.sequence;
    await new Promise<void>((resolve) => {
      this.waiting.set(sequence, resolve);
      this.send({ type: 'finish', sequence });
    });
    if (this.failure) throw this.failure;
    return this.mismatch;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private send(request: VerifyRequest): void {
    this.worker.postMessage(request);
  }
}

// Built (dist/, an installed package) the worker is the .js file beside this one. Run from src under tsx, the .ts worker
// is loaded through tsx's tsImport: workers inherit `--import=tsx`, but before Node 22.22.3 tsx registers itself only on the
// main thread, and tsImport's own namespace does not clash with a tsx that did register in the worker.
function startVerifyWorker(workerData: VerifyWorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./verify-worker.js', import.meta.url), { workerData });
  const loader = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const entry = JSON.stringify(new URL('./verify-worker.ts', import.meta.url).href);
  return new Worker(`import(${loader}).then(({ tsImport }) => tsImport(${entry}, ${entry}));`, { eval: true, workerData });
}

// Errors cross from the worker as plain copies: a failed open or read of the target is the card's (or the file's) fault,
// anything else a bug in pikube.
function describeWorkerFailure(target: string, error: unknown): Error {
  const { message, syscall, code } = error as { message?: string; syscall?: string; code?: string };
  if (syscall !== undefined) {
    return new ToolError({ command: `read-back of ${target}`, message: `reading ${target} back failed: ${message ?? code}; the card is incomplete`,
      hint: 'the card may be failing or was removed: try flashing again, then another card' }, { cause: error });
  }
  return error instanceof Error ? error : new InternalError(`the read-back of ${target} failed: ${message ?? String(error)}`, { cause: error });
}
