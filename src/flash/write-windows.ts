import type { WriteTarget } from './write-target.ts';

const DEFAULT_SYNC_WINDOW = 32 * 1024 * 1024;
const MIN_SYNC_WINDOW = 8 * 1024 * 1024;
const MAX_SYNC_WINDOW = 256 * 1024 * 1024;
// Writes queued at once; the target's buffer pool (this + 3) is sized so a buffer is never refilled while being written.
export const MAX_INFLIGHT_WRITES = 4;

// Bytes placed at an offset of the image.
export interface ImagePart {
  offset: number;
  data: Buffer;
}

// Keeps a few writes in flight and syncs the target every window (about half a second of writing unless the window is
// fixed); after each sync `onSynced` runs with the offset written up to, so that window can be read back.
export class WindowedWriter {
  // Bytes written to the target so far.
  written = 0;
  private readonly inflight: Promise<void>[] = [];
  private readonly adaptive: boolean;
  private window: number;
  private windowStarted = performance.now();
  private unsynced = 0;
  private writtenUpTo = 0;

  constructor(private readonly target: WriteTarget, fixedWindow: number | undefined, private readonly onSynced: (writtenUpTo: number) => Promise<void>) {
    this.adaptive = !fixedWindow;
    this.window = fixedWindow ?? DEFAULT_SYNC_WINDOW;
  }

  // Queues a write once fewer than MAX_INFLIGHT_WRITES are queued, and syncs when the window is full.
  async write(part: ImagePart): Promise<void> {
    if (this.inflight.length >= MAX_INFLIGHT_WRITES) await this.inflight.shift();
    this.inflight.push(this.target.write(part.data, part.offset));
    this.written += part.data.length;
    this.unsynced += part.data.length;
    this.writtenUpTo = part.offset + part.data.length;
    if (this.unsynced >= this.window) await this.sync();
  }

  // Everything written so far reaches the card; then `onSynced` runs.
  async sync(): Promise<void> {
    await Promise.all(this.inflight.splice(0));
    await this.target.sync();
    if (this.adaptive && this.unsynced > 0) this.window = adaptWindow(this.unsynced, performance.now() - this.windowStarted);
    this.windowStarted = performance.now();
    this.unsynced = 0;
    await this.onSynced(this.writtenUpTo);
  }

  // Waits for the queued writes, failed or not, so nothing writes to the target after it is closed.
  async settle(): Promise<void> {
    await Promise.allSettled(this.inflight);
  }

  // Writes the parts one after another outside any window and syncs them (the first megabyte, written last).
  async writeAndSync(parts: readonly ImagePart[]): Promise<void> {
    for (const part of parts) await this.target.write(part.data, part.offset);
    await this.target.sync();
    this.written += parts.reduce((sum, part) => sum + part.data.length, 0);
  }
}

// About half a second of writing between syncs: progress and Ctrl-C stay prompt on a slow card, and a fast target
// is not held back by flushing every few megabytes.
function adaptWindow(bytes: number, milliseconds: number): number {
  const perHalfSecond = milliseconds > 0 ? (bytes / milliseconds) * 500 : MAX_SYNC_WINDOW;
  return Math.min(MAX_SYNC_WINDOW, Math.max(MIN_SYNC_WINDOW, Math.round(perHalfSecond / 1048576) * 1048576));
}
