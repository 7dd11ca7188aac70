import { UserError } from '../errors.ts';
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

// Reads the ext superblock: sizes for the fit check, label and UUID for inspect.
export async function readExtSuperblock(volume: ExtVolume): Promise<ExtSuperblock> {
  const result = await runTool('dumpe2fs', ['-h', extSpec(volume)], { env: extEnvironment(), okExitCodes: [1] });
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
