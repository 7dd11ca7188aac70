import type { FileHandle } from 'node:fs/promises';
import { parseFatBootSector } from './fat-boot-sector.ts';

export interface ByteRange {
  // Byte offsets in the image, end exclusive.
  start: number;
  end: number;
}

interface FatGeometry {
  clusterBytes: number;
  fatOffsets: number[];
  fatBytes: number;
  dataStart: number;
  clusters: number;
  entryBits: 12 | 16 | 32;
}

// The free clusters of a FAT12/16/32 filesystem at `offset`, as the FAT itself records them (an entry of 0 in every
// copy of the FAT); undefined when the boot sector does not describe a FAT that fits the partition. Everything
// before the data area (boot sector, reserved sectors, both FATs, the FAT12/16 root directory) is never free.
export async function listFatFreeRanges(handle: FileHandle, offset: number, partitionBytes: number): Promise<ByteRange[] | undefined> {
  const geometry = await readGeometry(handle, offset, partitionBytes);
  if (!geometry) return undefined;
  const used = new Uint8Array(geometry.clusters + 2);
  for (const fatOffset of geometry.fatOffsets) {
    const fat = Buffer.alloc(geometry.fatBytes);
    const { bytesRead } = await handle.read(fat, 0, fat.length, fatOffset);
    if (bytesRead < fat.length) return undefined;
    for (let cluster = 2; cluster < geometry.clusters + 2; cluster++) {
      if (readEntry(fat, cluster, geometry.entryBits) !== 0) used[cluster] = 1;
    }
  }
  const ranges: ByteRange[] = [];
  const end = offset + partitionBytes;
  for (let cluster = 2; cluster < geometry.clusters + 2; cluster++) {
    if (used[cluster]) continue;
    const start = geometry.dataStart + (cluster - 2) * geometry.clusterBytes;
    const stop = Math.min(start + geometry.clusterBytes, end);
    const previous = ranges.at(-1);
    if (previous && previous.end === start) previous.end = stop;
    else ranges.push({ start, end: stop });
  }
  return ranges;
}

async function readGeometry(handle: FileHandle, offset: number, partitionBytes: number): Promise<FatGeometry | undefined> {
  const boot = Buffer.alloc(512);
  const { bytesRead } = await handle.read(boot, 0, boot.length, offset);
  if (bytesRead < boot.length || boot.readUInt16LE(510) !== 0xaa55) return undefined;
  const { bytesPerSector, sectorsPerCluster, reservedSectors, fatCount, totalSectors, fatSectors, entryBits, dataSector, clusterCount: counted } = parseFatBootSector(boot);
  const powerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;
  if (![512, 1024, 2048, 4096].includes(bytesPerSector) || !powerOfTwo(sectorsPerCluster) || reservedSectors === 0) return undefined;
  if (fatCount < 1 || fatCount > 4 || fatSectors === 0 || totalSectors === 0) return undefined;
  if (dataSector >= totalSectors || dataSector * bytesPerSector > partitionBytes) return undefined;
  const clusterBytes = sectorsPerCluster * bytesPerSector;
  const fatBytes = fatSectors * bytesPerSector;
  const entries = Math.floor((fatBytes * 8) / entryBits);
  if (entries < 3) return undefined;
  const clusters = Math.min(counted, entries - 2);
  const fatOffsets = Array.from({ length: fatCount }, (_, i) => offset + (reservedSectors + i * fatSectors) * bytesPerSector);
  return { clusterBytes, fatOffsets, fatBytes, dataStart: offset + dataSector * bytesPerSector, clusters, entryBits };
}

function readEntry(fat: Buffer, cluster: number, bits: 12 | 16 | 32): number {
  if (bits === 32) return fat.readUInt32LE(cluster * 4) & 0x0fffffff;
  if (bits === 16) return fat.readUInt16LE(cluster * 2);
  const at = Math.floor((cluster * 3) / 2);
  const pair = fat.readUInt16LE(at);
  return cluster % 2 === 0 ? pair & 0x0fff : pair >> 4;
}
