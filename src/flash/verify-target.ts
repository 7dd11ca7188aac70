import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { InterruptedError } from '../errors.ts';

export interface Segment {
  start: number;
  end: number;
  sha256: string;
}

// Plain JavaScript, so the worker runs without the TypeScript loader: reads its segments with positioned reads and hashes them.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const fd = fs.openSync(workerData.path, 'r');
const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
try {
  for (const segment of workerData.segments) {
    const hash = createHash('sha256');
    for (let offset = segment.start; offset < segment.end;) {
      const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, segment.end - offset), offset);
      if (read === 0) break;
      hash.update(buffer.subarray(0, read));
      offset += read;
      parentPort.postMessage({ type: 'progress', bytes: read });
    }
    parentPort.postMessage({ type: 'segment', index: segment.index, sha256: hash.digest('hex') });
  }
} finally {
  fs.closeSync(fd);
}
`;

interface WorkerMessage {
  type: 'progress' | 'segment';
  bytes?: number;
  index?: number;
  sha256?: string;
}

// Reads segments back from the target and compares their sha256, hashing on every core (sha256 is the cost on fast targets).
// Resolves the first segment that differs, or undefined when all match.
export async function findMismatchedSegment(target: string, segments: readonly Segment[], options: { signal: AbortSignal; onChecked: (bytes: number) => void }): Promise<Segment | undefined> {
  if (segments.length === 0) return undefined;
  const count = Math.max(1, Math.min(os.availableParallelism(), 4, segments.length));
  const shares: { index: number; start: number; end: number }[][] = Array.from({ length: count }, () => []);
  const loads = new Array<number>(count).fill(0);
  const order = segments.map((segment, index) => ({ index, start: segment.start, end: segment.end })).toSorted((a, b) => (b.end - b.start) - (a.end - a.start));
  for (const item of order) {
    const lightest = loads.indexOf(Math.min(...loads));
    shares[lightest]?.push(item);
    loads[lightest] = (loads[lightest] ?? 0) + item.end - item.start;
  }
  const mismatches: number[] = [];
  let checked = 0;
  const workers = shares.map((share) => new Worker(WORKER_SOURCE, { eval: true, workerData: { path: target, segments: share.toSorted((a, b) => a.start - b.start) } }));
  const stop = () => { for (const worker of workers) void worker.terminate(); };
  options.signal.addEventListener('abort', stop, { once: true });
  try {
    await Promise.all(workers.map((worker) => new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'progress') {
          checked += message.bytes ?? 0;
          options.onChecked(checked);
        } else if (message.index !== undefined && segments[message.index]?.sha256 !== message.sha256) {
          mismatches.push(message.index);
        }
      });
      worker.on('error', reject);
      worker.on('exit', () => resolve());
    })));
  } finally {
    options.signal.removeEventListener('abort', stop);
    stop();
  }
  if (options.signal.aborted) throw new InterruptedError();
  const first = Math.min(...mismatches);
  return Number.isFinite(first) ? segments[first] : undefined;
}
