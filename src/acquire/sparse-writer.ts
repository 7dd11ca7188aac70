import { type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

const BLOCK = 1024 * 1024;
const UNIT = 64 * 1024;
const ZEROS = Buffer.alloc(UNIT);

// Writes a stream into a fresh file at its positions, skipping all-zero 64 KiB units so they stay holes,
// then sets the final length: an image's empty space costs neither disk nor write time. Memory: one 1 MiB block.
export class SparseWriter extends Writable {
  private readonly block = Buffer.allocUnsafe(BLOCK);
  private filled = 0;
  private position = 0;

  constructor(private readonly handle: FileHandle, private readonly options: { sparse: boolean }) {
    super({ highWaterMark: BLOCK });
  }

  // Total bytes received so far.
  get bytes(): number {
    return this.position + this.filled;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.absorb(chunk).then(() => callback(), (error: Error) => callback(error));
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.flush().then(() => this.handle.truncate(this.position)).then(() => callback(), (error: Error) => callback(error));
  }

  private async absorb(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(BLOCK - this.filled, chunk.length - offset);
      chunk.copy(this.block, this.filled, offset, offset + take);
      this.filled += take;
      offset += take;
      if (this.filled === BLOCK) await this.flush();
    }
  }

  // Writes the non-zero runs of the block at their file positions.
  private async flush(): Promise<void> {
    const length = this.filled;
    if (length === 0) return;
    if (!this.options.sparse) {
      await this.writeAll(0, length);
    } else {
      let runStart = -1;
      for (let unit = 0; unit < length; unit += UNIT) {
        const end = Math.min(unit + UNIT, length);
        const zero = this.block.subarray(unit, end).equals(end - unit === UNIT ? ZEROS : ZEROS.subarray(0, end - unit));
        if (!zero && runStart < 0) runStart = unit;
        if (zero && runStart >= 0) {
          await this.writeAll(runStart, unit);
          runStart = -1;
        }
      }
      if (runStart >= 0) await this.writeAll(runStart, length);
    }
    this.position += length;
    this.filled = 0;
  }

  private async writeAll(from: number, to: number): Promise<void> {
    let done = from;
    while (done < to) {
      const { bytesWritten } = await this.handle.write(this.block, done, to - done, this.position + done);
      done += bytesWritten;
    }
  }
}
