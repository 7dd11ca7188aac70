import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { crc32, createInflateRaw } from 'node:zlib';
import unzipper from 'unzipper';
import { UserError } from '../errors.ts';
import { damagedArchive } from '../damaged-archive.ts';
import { isZlibError } from './gzip-stream.ts';

// One file inside a zip, with what it takes to stream it out.
export interface ZipEntry {
  name: string;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  method: number;
  flags: number;
  localHeaderOffset: number;
}

// The archive's file entries from its central directory (unzipper reads it, ZIP64 included).
export async function listZipEntries(archivePath: string): Promise<ZipEntry[]> {
  let directory: unzipper.CentralDirectory;
  try {
    directory = await unzipper.Open.file(archivePath);
  } catch (error) {
    throw corrupt(archivePath, error);
  }
  return directory.files.filter((f) => f.type !== 'Directory').map((f) => ({
    name: f.path,
    compressedSize: f.compressedSize,
    uncompressedSize: f.uncompressedSize,
    crc32: f.crc32 >>> 0,
    method: f.compressionMethod,
    flags: f.flags,
    localHeaderOffset: f.offsetToLocalFileHeader,
  }));
}

// The entry that holds the image, one rule for build and flash: the one named (by path or file name), else the one
// .img/.raw/.bin file, else the only file; macOS resource forks (__MACOSX/) and dot files are never candidates.
export function chooseZipEntry(entries: ZipEntry[], archivePath: string, wanted?: string): ZipEntry {
  const names = entries.map((e) => e.name).join(', ') || '(none)';
  const fix = 'name the one to use with `entry:` in the recipe, or unzip it and give the image file itself';
  if (wanted) {
    const match = entries.find((e) => e.name === wanted) ?? entries.filter((e) => path.posix.basename(e.name) === wanted)[0];
    if (match) return match;
    throw new UserError(`${path.basename(archivePath)} has no entry named ${wanted}; it holds: ${names}`, 'set `entry:` in the recipe to one of those names');
  }
  const files = entries.filter((e) => !/(^|\/)__MACOSX\//.test(e.name) && !path.posix.basename(e.name).startsWith('.'));
  const images = files.filter((e) => /\.(img|raw|bin)$/i.test(e.name));
  const only = images.length === 1 ? images[0] : images.length === 0 && files.length === 1 ? files[0] : undefined;
  if (only) return only;
  throw new UserError(`${path.basename(archivePath)} holds ${images.length > 1 ? 'several images' : 'no single image (.img, .raw or .bin)'}: ${names}`, fix);
}

// A stream of the entry's uncompressed bytes, read straight from its place in the file and inflated by zlib; it
// fails (with `corrupt`) when the data does not inflate or does not match the size and CRC-32 the directory gives,
// so no reader can take a damaged entry for an image.
export async function openZipEntry(archivePath: string, entry: ZipEntry): Promise<Readable> {
  if (entry.flags & 0x1) throw new UserError(`${entry.name} in ${path.basename(archivePath)} is encrypted`, 'unpack it yourself and give the .img as the base');
  if (entry.method !== 0 && entry.method !== 8) {
    throw new UserError(`${entry.name} in ${path.basename(archivePath)} uses zip compression method ${entry.method}, which pikube cannot read (only stored and deflate)`, 'unpack it yourself and give the .img as the base');
  }
  const header = Buffer.alloc(30);
  const handle = await open(archivePath, 'r');
  let size: number;
  try {
    await handle.read(header, 0, 30, entry.localHeaderOffset);
    size = (await handle.stat()).size;
  } finally {
    await handle.close();
  }
  if (header.readUInt32LE(0) !== 0x04034b50) throw corrupt(archivePath, new Error(`no local header for ${entry.name} at offset ${entry.localHeaderOffset}`));
  const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (start + entry.compressedSize > size) throw corrupt(archivePath, new Error(`${entry.name} runs past the end of the file`));
  const raw = createReadStream(archivePath, { start, end: start + entry.compressedSize - 1, highWaterMark: 1024 * 1024 });
  if (entry.compressedSize === 0) raw.destroy();
  const check = new EntryCheck(archivePath, entry);
  const stages = entry.method === 8 ? [raw, createInflateRaw({ chunkSize: 256 * 1024 })] : [raw];
  // Registered before pipeline's own handlers, so a zlib failure reaches the reader as `corrupt`, not as Z_DATA_ERROR.
  for (const stage of stages) stage.on('error', (error: Error) => isZlibError(error) && check.destroy(corrupt(archivePath, error)));
  pipeline([...stages, check], () => undefined);
  return check;
}

class EntryCheck extends Transform {
  private bytes = 0;
  private crc = 0;

  constructor(private readonly archivePath: string, private readonly entry: ZipEntry) {
    // Buffers as much as the inflater hands over (256 KiB chunks), so this stage adds no back-and-forth.
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.crc = crc32(chunk, this.crc);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    const { entry } = this;
    if (this.bytes === entry.uncompressedSize && this.crc >>> 0 === entry.crc32) callback();
    else callback(corrupt(this.archivePath, new Error(`${entry.name} unpacked to ${this.bytes} bytes with CRC ${hex(this.crc >>> 0)}, the directory says ${entry.uncompressedSize} bytes, CRC ${hex(entry.crc32)}`)));
  }
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

// A damaged or cut-off archive is the input's fault: say so, and what to do.
export function corrupt(archivePath: string, cause: unknown): UserError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return damagedArchive(archivePath, 'zip', detail, cause);
}
