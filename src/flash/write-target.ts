import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { log } from '../log.ts';
import { ALIGN, findAlignedOffset } from './find-aligned-offset.ts';

export interface WriteTarget {
  // True when writes bypass the page cache (block devices that accept O_DIRECT).
  direct: boolean;
  // Buffers to fill with data to write: aligned when `direct`, so writing them needs no copy.
  buffers: Buffer[];
  write(data: Buffer, position: number): Promise<void>;
  truncate(size: number): Promise<void>;
  // Waits until everything written is on the device.
  sync(): Promise<void>;
  close(): Promise<void>;
}

// Opens the card exclusively (O_EXCL fails while a partition is mounted) and, where it accepts it, with O_DIRECT: without the page
// cache, dd writes a loop device about 4x faster here, and progress counts what reached the device. Regular files stay buffered.
export async function openWriteTarget(path: string, isBlockDevice: boolean, bufferCount: number, bufferSize: number): Promise<WriteTarget> {
  if (!isBlockDevice) {
    const handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC, 0o644);
    return makeTarget(path, handle, undefined, Array.from({ length: bufferCount }, () => Buffer.allocUnsafe(bufferSize)));
  }
  const direct = await open(path, constants.O_RDWR | constants.O_EXCL | constants.O_DIRECT).catch(() => undefined);
  if (direct) {
    const slab = Buffer.allocUnsafeSlow((bufferCount + 1) * bufferSize + ALIGN);
    const start = await findAlignedOffset(direct, slab);
    if (start !== undefined) {
      const buffers = Array.from({ length: bufferCount + 1 }, (_, i) => slab.subarray(start + i * bufferSize, start + (i + 1) * bufferSize));
      return makeTarget(path, direct, { slab, start, scratch: buffers.pop() as Buffer }, buffers);
    }
    await direct.close();
    log.debug(`${path}: no aligned buffer for O_DIRECT, writing through the page cache`);
  }
  const handle = await open(path, constants.O_RDWR | constants.O_EXCL);
  return makeTarget(path, handle, undefined, Array.from({ length: bufferCount }, () => Buffer.allocUnsafe(bufferSize)));
}

function makeTarget(path: string, handle: FileHandle, aligned: { slab: Buffer; start: number; scratch: Buffer } | undefined, buffers: Buffer[]): WriteTarget {
  let buffered: FileHandle | undefined;
  const isAligned = (data: Buffer) => aligned !== undefined && data.buffer === aligned.slab.buffer && (data.byteOffset - aligned.slab.byteOffset - aligned.start) % ALIGN === 0;
  return {
    direct: aligned !== undefined,
    buffers,
    async write(data, position) {
      if (!aligned) return writeFully(handle, data, position);
      if (position % ALIGN !== 0 || data.length % ALIGN !== 0) {
        // An odd-sized tail (an image whose size is not a multiple of 4 KiB) goes through the page cache.
        buffered ??= await open(path, constants.O_RDWR);
        return writeFully(buffered, data, position);
      }
      if (isAligned(data)) return writeFully(handle, data, position);
      for (let done = 0; done < data.length; done += aligned.scratch.length) {
        const length = Math.min(aligned.scratch.length, data.length - done);
        data.copy(aligned.scratch, 0, done, done + length);
        await writeFully(handle, aligned.scratch.subarray(0, length), position + done);
      }
    },
    async truncate(size) {
      await handle.truncate(size);
    },
    async sync() {
      await buffered?.datasync();
      await handle.datasync();
    },
    async close() {
      await buffered?.close();
      await handle.close();
    },
  };
}

async function writeFully(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (bytesWritten === 0) throw Object.assign(new Error(`no space left writing at byte ${position + done}`), { code: 'ENOSPC' });
    done += bytesWritten;
  }
}
