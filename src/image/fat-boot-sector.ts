// A FAT boot sector's BIOS parameter block and the layout it implies, read one way for the header check and the
// block map (Microsoft's FAT specification, "FAT: General Overview of On-Disk Format": BPB fields, root directory
// sectors, the cluster-count computation).
export interface FatBootSector {
  bytesPerSector: number;
  sectorsPerCluster: number;
  reservedSectors: number;
  fatCount: number;
  rootEntries: number;
  totalSectors: number;
  fatSectors: number;
  media: number;
  // The FAT32 root folder's first cluster (0 on FAT12/16).
  rootCluster: number;
  // As Linux's fat driver decides: a boot sector without a 16-bit FAT size is FAT32 (mkfs.fat -F 32 makes such
  // volumes below Microsoft's 65525-cluster minimum); otherwise the cluster count tells FAT12 from FAT16.
  entryBits: 12 | 16 | 32;
  // The first sector of the data area (after the reserved sectors, every FAT and the FAT12/16 root directory).
  dataSector: number;
  // Clusters the data area holds by the sector count (0 when the fields cannot describe one).
  clusterCount: number;
}

// Reads the fields from the first 512 bytes of the partition; it does not judge them.
export function parseFatBootSector(boot: Buffer): FatBootSector {
  const bytesPerSector = boot.readUInt16LE(11);
  const sectorsPerCluster = boot.readUInt8(13);
  const reservedSectors = boot.readUInt16LE(14);
  const fatCount = boot.readUInt8(16);
  const rootEntries = boot.readUInt16LE(17);
  const totalSectors = boot.readUInt16LE(19) || boot.readUInt32LE(32);
  const fatSectors = boot.readUInt16LE(22) || boot.readUInt32LE(36);
  const rootSectors = bytesPerSector > 0 ? Math.ceil((rootEntries * 32) / bytesPerSector) : 0;
  const dataSector = reservedSectors + fatCount * fatSectors + rootSectors;
  const clusterCount = sectorsPerCluster > 0 && dataSector < totalSectors ? Math.floor((totalSectors - dataSector) / sectorsPerCluster) : 0;
  const fat32 = boot.readUInt16LE(22) === 0;
  return {
    bytesPerSector, sectorsPerCluster, reservedSectors, fatCount, rootEntries, totalSectors, fatSectors,
    media: boot.readUInt8(21), rootCluster: fat32 ? boot.readUInt32LE(44) : 0,
    entryBits: fat32 ? 32 : clusterCount < 4085 ? 12 : 16, dataSector, clusterCount,
  };
}
