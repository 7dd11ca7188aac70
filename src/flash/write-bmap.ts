import { createHash } from 'node:crypto';
import { rename, rm, stat, writeFile } from 'node:fs/promises';
import { hashFileRange } from '../acquire/hash-file.ts';
import { UserError } from '../errors.ts';
import { FILESYSTEM_MAP_MARK, type BlockMap, type MappedRange } from './block-map.ts';
import { listNeededBlocks } from './list-needed-blocks.ts';
import { formatBytes } from '../format-bytes.ts';

const BLOCK_SIZE = 4096;

// bmaptool's `.bmap` (2.0, sha256 per range) of the blocks the image's filesystems need, metadata and zeros
// included, so flashers skip only free space and a reused card reads back as the image.
export async function writeBmap(imagePath: string, bmapPath: string): Promise<BlockMap> {
  const imageSize = (await stat(imagePath)).size;
  const blocks = await listNeededBlocks(imagePath, BLOCK_SIZE);
  const ranges: MappedRange[] = [];
  for (const [first, last] of blocks) {
    const start = first * BLOCK_SIZE;
    const end = Math.min((last + 1) * BLOCK_SIZE, imageSize);
    ranges.push({ start, end, checksum: await hashFileRange(imagePath, start, end) });
  }
  if ((await stat(imagePath)).size !== imageSize) throw new UserError(`${imagePath} changed size while its block map was being made`, 'let whatever is writing the image finish, then run pikube again');
  const map: BlockMap = { imageSize, blockSize: BLOCK_SIZE, checksumType: 'sha256', ranges, fromFilesystems: true };
  const temporary = `${bmapPath}.partial`;
  try {
    await writeFile(temporary, formatBmap(map));
    await rename(temporary, bmapPath);
  } finally {
    await rm(temporary, { force: true });
  }
  return map;
}

// The XML text, with BmapFileChecksum computed over the file with that field set to zeros (as bmaptool checks it).
export function formatBmap(map: BlockMap): string {
  const blocksCount = Math.ceil(map.imageSize / map.blockSize);
  const mappedBlocks = map.ranges.reduce((sum, r) => sum + Math.ceil((r.end - r.start) / map.blockSize), 0);
  const percent = blocksCount === 0 ? 0 : (mappedBlocks * 100) / blocksCount;
  const zeros = '0'.repeat(64);
  const lines = [
    '<?xml version="1.0" ?>',
    `<!-- ${FILESYSTEM_MAP_MARK}. Block map of a disk image in the bmaptool format: every block`,
    '     except those its partitions\' filesystems (FAT, ext4) record as free. Zeros that the',
    '     filesystems need are mapped too, so a card that held data before reads back as the',
    '     image. Each range carries the checksum of its bytes. -->',
    '',
    '<bmap version="2.0">',
    `    <!-- Image size in bytes: ${formatBytes(map.imageSize)} -->`,
    `    <ImageSize> ${map.imageSize} </ImageSize>`,
    '',
    '    <!-- Size of a block in bytes -->',
    `    <BlockSize> ${map.blockSize} </BlockSize>`,
    '',
    '    <!-- Count of blocks in the image file -->',
    `    <BlocksCount> ${blocksCount} </BlocksCount>`,
    '',
    `    <!-- Count of mapped blocks: ${formatBytes(mappedBlocks * map.blockSize)} or ${percent.toFixed(1)}% -->`,
    `    <MappedBlocksCount> ${mappedBlocks} </MappedBlocksCount>`,
    '',
    '    <!-- Type of checksum used in this file -->',
    `    <ChecksumType> ${map.checksumType} </ChecksumType>`,
    '',
    '    <!-- The checksum of this bmap file, computed with this value set to all "0" characters. -->',
    `    <BmapFileChecksum> ${zeros} </BmapFileChecksum>`,
    '',
    '    <!-- Mapped blocks: a range "first-last" or a single block, with the checksum of its bytes. -->',
    '    <BlockMap>',
    ...map.ranges.map((r) => {
      const first = r.start / map.blockSize;
      const last = Math.ceil(r.end / map.blockSize) - 1;
      return `        <Range chksum="${r.checksum ?? ''}"> ${first === last ? first : `${first}-${last}`} </Range>`;
    }),
    '    </BlockMap>',
    '</bmap>',
    '',
  ];
  const text = lines.join('\n');
  return text.replace(zeros, createHash(map.checksumType).update(text).digest('hex'));
}

