import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.ts';

export interface MappedRange {
  // Byte offsets in the image, end exclusive (the last range may end inside a block, at the image's end).
  start: number;
  end: number;
  // Hex checksum of the range's bytes, of `checksumType`.
  checksum?: string;
}

export interface BlockMap {
  imageSize: number;
  blockSize: number;
  checksumType: string;
  ranges: MappedRange[];
  // Written by pikube from the image's filesystems (its header says so, under the map's own checksum), so nothing
  // the filesystems need is left out and flash need not check it again.
  fromFilesystems?: boolean;
}

// The phrase in the header comment of a map pikube made from the filesystems.
export const FILESYSTEM_MAP_MARK = 'pikube filesystem-aware map';

// The number of bytes a block map says must be written.
export function countMappedBytes(map: BlockMap): number {
  return map.ranges.reduce((sum, range) => sum + range.end - range.start, 0);
}

// Reads a bmaptool `.bmap` (format 1.3 to 2.x) and checks its own checksum, so a damaged map is never trusted.
export async function readBlockMap(path: string): Promise<BlockMap> {
  const text = await readFile(path, 'utf8');
  const problem = (what: string) => new UserError(`${path} is not a usable block map: ${what}`,
    'rebuild it (`pikube bmap IMAGE` writes IMAGE.bmap; `pikube build` writes one too), or flash without it: --no-bmap');
  const version = /<bmap\s+version="(\d+)\.(\d+)"/.exec(text);
  if (!version) throw problem('no <bmap version="…"> element');
  const major = Number(version[1]);
  const minor = Number(version[2]);
  if (major > 2 || (major === 1 && minor < 3)) throw problem(`format version ${major}.${minor} is not supported`);
  const field = (name: string): string | undefined => new RegExp(`<${name}>\\s*([^<]*?)\\s*</${name}>`).exec(text)?.[1];
  const imageSize = Number(field('ImageSize'));
  const blockSize = Number(field('BlockSize'));
  const blocksCount = Number(field('BlocksCount'));
  if (!(imageSize >= 0 && blockSize > 0) || blocksCount !== Math.ceil(imageSize / blockSize)) throw problem('ImageSize, BlockSize and BlocksCount disagree');
  const checksumType = major >= 2 || minor >= 4 ? (field('ChecksumType') ?? '') : 'sha1';
  const fileChecksum = major >= 2 || minor >= 4 ? field('BmapFileChecksum') : field('BmapFileSHA1');
  if (!['sha1', 'sha256', 'sha512'].includes(checksumType)) throw problem(`checksum type "${checksumType}" is not supported`);
  if (fileChecksum) {
    const zeroed = text.replace(fileChecksum, '0'.repeat(fileChecksum.length));
    if (createHash(checksumType).update(zeroed).digest('hex') !== fileChecksum) throw problem('its checksum does not match its contents (the file was changed or truncated)');
  }
  const attribute = checksumType === 'sha1' && major === 1 && minor === 3 ? 'sha1' : 'chksum';
  const ranges: MappedRange[] = [];
  for (const match of text.matchAll(/<Range([^>]*)>\s*(\d+)(?:\s*-\s*(\d+))?\s*<\/Range>/g)) {
    const first = Number(match[2]);
    const last = match[3] === undefined ? first : Number(match[3]);
    const checksum = new RegExp(`${attribute}="([0-9a-fA-F]+)"`).exec(match[1] ?? '')?.[1]?.toLowerCase();
    const start = first * blockSize;
    const end = Math.min((last + 1) * blockSize, imageSize);
    const previous = ranges.at(-1);
    if (last < first || start >= imageSize || (previous && start < previous.end)) throw problem(`range ${match[2]}${match[3] ? `-${match[3]}` : ''} is out of order or outside the image`);
    ranges.push(checksum ? { start, end, checksum } : { start, end });
  }
  return { imageSize, blockSize, checksumType, ranges, ...(fileChecksum && text.includes(FILESYSTEM_MAP_MARK) ? { fromFilesystems: true } : {}) };
}
