import { runTool } from './run.ts';

export interface ByteRange {
  offset: number;
  length: number;
}

// Copies a byte range of one file into another file at a byte offset, skipping all-zero blocks (the target
// range must already read as zeros, e.g. freshly punched or extended).
export async function copyRangeSparse(source: string, sourceRange: ByteRange, target: string, targetOffset: number, signal?: AbortSignal): Promise<void> {
  await runTool('dd', [`if=${source}`, `of=${target}`, 'bs=4M', `skip=${sourceRange.offset}`, `count=${sourceRange.length}`,
    `seek=${targetOffset}`, 'iflag=skip_bytes,count_bytes', 'oflag=seek_bytes', 'conv=sparse,notrunc', 'status=none'], { cancelSignal: signal });
}
