import { InternalError } from '../errors.ts';

// What one tar entry header records.
export interface TarHeader {
  name: string;
  type: 'file' | 'directory';
  size: number;
  mode: number;
  // Seconds since the epoch; fixed by the caller so the same input gives the same bytes.
  mtime: number;
}

// Tar works in 512-byte blocks.
export const TAR_BLOCK = 512;

// Two zero blocks end a tar archive.
export const TAR_END = Buffer.alloc(TAR_BLOCK * 2);

// One POSIX ustar header block, owner root:root (0/0), no user or group names, so nothing about this host leaks in.
export function makeTarHeader(header: TarHeader): Buffer {
  const block = Buffer.alloc(TAR_BLOCK);
  const name = header.type === 'directory' && !header.name.endsWith('/') ? `${header.name}/` : header.name;
  if (Buffer.byteLength(name) > 100) throw new InternalError(`tar entry name longer than 100 bytes: ${name}`);
  block.write(name, 0, 100, 'utf8');
  writeOctal(block, 100, 8, header.mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeSize(block, header.type === 'directory' ? 0 : header.size);
  writeOctal(block, 136, 12, header.mtime);
  block.fill(0x20, 148, 156);
  block.write(header.type === 'directory' ? '5' : '0', 156, 1, 'ascii');
  block.write('ustar\u000000', 257, 8, 'ascii');
  writeOctal(block, 329, 8, 0);
  writeOctal(block, 337, 8, 0);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

// Zero bytes that round an entry's data up to a whole block.
export function tarPadding(size: number): Buffer {
  const rest = size % TAR_BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : TAR_BLOCK - rest);
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}

// Sizes from 8 GiB up use the base-256 form GNU tar, Go and libarchive all read.
function writeSize(block: Buffer, size: number): void {
  if (size < 8 ** 11) {
    writeOctal(block, 124, 12, size);
    return;
  }
  let rest = BigInt(size);
  for (let i = 135; i > 124; i -= 1) {
    block[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  block[124] = 0x80;
}
