import { ToolError, UserError } from '../errors.ts';
import { extEnvironment, extSpec, type ExtVolume } from './debugfs.ts';
import { runTool } from './run.ts';

export interface ExtSuperblock {
  label: string;
  uuid: string;
  blockSize: number;
  blockCount: number;
  freeBlocks: number;
  reservedBlocks: number;
  inodeCount: number;
  freeInodes: number;
  inodeSize: number;
  features: string[];
}

// What libext2fs says when the superblock or group descriptors it reads are damaged (its error table,
// lib/ext2fs/ext2_err.et.in): "The ext2 superblock is corrupt", "Bad magic number in super-block", "Superblock
// checksum does not match superblock", "Corrupt group descriptor: …", "Filesystem revision too high", ….
const DAMAGE = /^dumpe2fs: ((?:.*(?:corrupt|[Bb]ad magic|checksum does not match|revision too high|unsupported feature|short read|group descriptor)).*?)(?: while trying to open .*)?$/m;

// Reads the ext superblock: sizes for the fit check, label and UUID for inspect.
export async function readExtSuperblock(volume: ExtVolume): Promise<ExtSuperblock> {
  const result = await runTool('dumpe2fs', ['-h', extSpec(volume)], { env: extEnvironment(), okExitCodes: [1] }).catch((error: unknown) => {
    // libext2fs refusing the superblock is the image's damage, not a tool failure.
    const said = error instanceof ToolError ? DAMAGE.exec(error.stderr)?.[1] : undefined;
    if (said) throw new UserError(`the ext4 root filesystem at byte ${volume.offset} of ${volume.image} is damaged: dumpe2fs says "${said.trim()}"`, 'the image is corrupt: download or decompress it again (or write it again from its source)');
    throw error;
  });
  if (!/Block size:/.test(result.stdout)) {
    throw new UserError(`no ext4 filesystem at byte ${volume.offset} of ${volume.image}`, 'the root partition must hold an ext2/3/4 filesystem; check the base image is not corrupt');
  }
  const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(result.stdout)?.[1]?.trim() ?? '';
  const label = field('Filesystem volume name');
  return {
    label: label === '<none>' ? '' : label,
    uuid: field('Filesystem UUID'),
    blockSize: Number(field('Block size')),
    blockCount: Number(field('Block count')),
    freeBlocks: Number(field('Free blocks')),
    reservedBlocks: Number(field('Reserved block count')),
    inodeCount: Number(field('Inode count')),
    freeInodes: Number(field('Free inodes')),
    inodeSize: Number(field('Inode size') || 256),
    features: field('Filesystem features').split(/\s+/).filter(Boolean),
  };
}

export interface ExtFreeBlocks {
  blockSize: number;
  blockCount: number;
  // Block ranges [first, last] the block bitmaps mark free, in order.
  free: [number, number][];
}

// The free blocks per the block bitmaps (dumpe2fs computes the bitmap of a BLOCK_UNINIT group as the kernel does),
// or undefined when dumpe2fs finds no readable ext filesystem there.
export async function readExtFreeBlocks(volume: ExtVolume): Promise<ExtFreeBlocks | undefined> {
  const result = await runTool('dumpe2fs', [extSpec(volume)], { env: extEnvironment() }).catch((error: unknown) => {
    if (error instanceof ToolError && error.exitCode !== undefined) return undefined;
    throw error;
  });
  if (!result) return undefined;
  const blockSize = Number(/^Block size:\s*(\d+)$/m.exec(result.stdout)?.[1]);
  const blockCount = Number(/^Block count:\s*(\d+)$/m.exec(result.stdout)?.[1]);
  if (!(blockSize > 0 && blockCount > 0)) return undefined;
  const free: [number, number][] = [];
  for (const line of result.stdout.matchAll(/^\s+Free blocks: *(.*)$/gm)) {
    for (const item of (line[1] ?? '').split(',')) {
      const match = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(item);
      if (!match) continue;
      const first = Number(match[1]);
      const last = Math.min(match[2] === undefined ? first : Number(match[2]), blockCount - 1);
      if (last >= first) free.push([first, last]);
    }
  }
  return { blockSize, blockCount, free: free.toSorted((a, b) => a[0] - b[0]) };
}
