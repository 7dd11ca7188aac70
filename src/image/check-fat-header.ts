import { open } from 'node:fs/promises';
import { parseFatBootSector } from './fat-boot-sector.ts';

// Why a FAT boot sector's BIOS parameter block cannot describe a filesystem inside its partition, or undefined.
// The rules are those of Microsoft's FAT specification ("FAT: General Overview of On-Disk Format", BPB fields and
// the cluster-count computation) that fsck.fat also enforces; mtools trusts these fields, and a damaged FAT size
// or sector count makes it read far outside the partition (minutes on a small image) before it fails.
export async function checkFatHeader(image: string, offset: number, partitionBytes: number): Promise<string | undefined> {
  const handle = await open(image, 'r');
  let bpb: Buffer;
  try {
    bpb = Buffer.alloc(512);
    await handle.read(bpb, 0, 512, offset);
  } finally {
    await handle.close();
  }
  const { bytesPerSector, sectorsPerCluster, reservedSectors: reserved, fatCount: fats, totalSectors, fatSectors, media, rootCluster, entryBits, dataSector: dataStart, clusterCount: clusters } = parseFatBootSector(bpb);
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) return `its sector size is ${bytesPerSector} bytes (512, 1024, 2048 or 4096 expected)`;
  if (sectorsPerCluster === 0 || (sectorsPerCluster & (sectorsPerCluster - 1)) !== 0) return `its cluster size is ${sectorsPerCluster} sectors (a power of two expected)`;
  if (reserved === 0) return 'it has no reserved sectors (at least the boot sector expected)';
  if (fats === 0 || fats > 4) return `it says it has ${fats} FAT copies`;
  if (media !== 0xf0 && media < 0xf8) return `its media byte is 0x${media.toString(16)} (0xf0 or 0xf8-0xff expected)`;
  if (totalSectors === 0) return 'its sector count is 0';
  if (totalSectors * bytesPerSector > partitionBytes) return `it says it is ${totalSectors * bytesPerSector} bytes long, more than its partition (${partitionBytes} bytes)`;
  if (fatSectors === 0 || dataStart >= totalSectors) return `its FATs (${fats} × ${fatSectors} sectors) do not fit in its ${totalSectors} sectors`;
  if ((fatSectors * bytesPerSector * 8) / entryBits < clusters + 2) return `its FAT (${fatSectors} sectors) is too small for its ${clusters} clusters`;
  if (entryBits === 32 && (rootCluster < 2 || rootCluster >= clusters + 2)) return `its root folder starts at cluster ${rootCluster}, outside its ${clusters} clusters`;
  return undefined;
}
