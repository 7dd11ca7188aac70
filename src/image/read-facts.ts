import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import type { ImageFacts, PartitionFacts } from '../plan/types.ts';
import { dumpExtFile, readExtText, statExtPaths, type ExtInode, type ExtVolume } from '../tools/debugfs.ts';
import { readExtSuperblock } from '../tools/dumpe2fs.ts';
import { listFat, readFatFile, readFatInfo, type FatVolume } from '../tools/mtools.ts';
import { readPartitionTable, type PartitionTable } from '../tools/sfdisk.ts';
import { checkFatHeader } from './check-fat-header.ts';
import { detectFilesystem } from './detect-filesystem.ts';
import { readElfArchitecture } from './elf-arch.ts';
import { makeTempFolder, removeTempFolder } from '../temp-folder.ts';

export interface ImageLayout {
  table: PartitionTable;
  partitions: PartitionFacts[];
  boot: PartitionFacts;
  root: PartitionFacts;
}

// Finds the Raspberry Pi shape in any MBR or GPT image: a FAT boot partition and an ext4 root after it. Errors
// call the image `name`: the file the user gave, when `image` is the copy being built.
export async function readLayout(image: string, name = image): Promise<ImageLayout> {
  const info = await stat(image).catch(() => undefined);
  if (!info?.isFile()) {
    throw new UserError(`the base image ${name} ${info ? 'is not a regular file' : 'does not exist'}`, 'set `base:` in the recipe, or pass --base PATH, to a Raspberry Pi OS or Hypriot .img');
  }
  const table = await readPartitionTable(image, name);
  const partitions = table.partitions.map((p) => ({
    number: p.number, start: p.start, size: p.size, type: p.type,
    partuuid: table.label === 'dos' ? `${table.id.replace(/^0x/, '')}-${String(p.number).padStart(2, '0')}` : (p.uuid ?? '').toLowerCase(),
  }));
  for (const p of partitions) {
    if ((p.start + p.size) * table.sectorSize > info.size) {
      throw new UserError(`partition ${p.number} of ${name} ends past the end of the file (${(p.start + p.size) * table.sectorSize} > ${info.size} bytes)`,
        'the image is truncated or its partition table is corrupt: download or decompress it again');
    }
  }
  const kinds = await Promise.all(partitions.map((p) => detectFilesystem(image, p.start * table.sectorSize)));
  const boot = partitions.find((_, i) => kinds[i] === 'fat');
  const root = partitions.find((p, i) => kinds[i] === 'ext' && (!boot || p.start > boot.start));
  if (!boot || !root) {
    const found = partitions.map((p, i) => `#${p.number} ${kinds[i]}`).join(', ') || 'no partitions';
    throw new UserError(`${name} is not a Raspberry Pi style image: it needs a FAT boot partition and an ext4 root partition (found ${found})`,
      'use a Raspberry Pi OS or Hypriot image, or check that the download is complete');
  }
  const fatProblem = await checkFatHeader(image, boot.start * table.sectorSize, boot.size * table.sectorSize);
  if (fatProblem) {
    throw new UserError(`the FAT boot partition (#${boot.number}) of ${image} is damaged: ${fatProblem}`,
      'the image is corrupt: download or decompress it again (or write it again from its source)');
  }
  return { table, partitions, boot, root };
}

// Everything the plan may depend on, read without mounting: sizes, free space, users, OS, architecture.
export async function readImageFacts(image: string, name = image): Promise<ImageFacts> {
  const layout = await readLayout(image, name);
  const { table, boot, root } = layout;
  const info = await stat(image);
  const fatVolume: FatVolume = { image, offset: boot.start * table.sectorSize };
  const extVolume: ExtVolume = { image, offset: root.start * table.sectorSize };
  const [fat, fatListing, superblock, cmdline] = await Promise.all([
    readFatInfo(fatVolume), listFat(fatVolume), readExtSuperblock(extVolume), readFatFile(fatVolume, '/cmdline.txt'),
  ]);
  const [passwd, group, osRelease, architecture, markers] = await Promise.all([
    readExtText(extVolume, '/etc/passwd'), readExtText(extVolume, '/etc/group'), readOsRelease(extVolume), readArchitecture(extVolume),
    statExtPaths(extVolume, MARKERS),
  ]);
  const lastEnd = Math.max(...layout.partitions.map((p) => p.start + p.size));
  return {
    path: image,
    size: info.size,
    table: { label: table.label, id: table.id, sectorSize: table.sectorSize, partitions: layout.partitions },
    boot: { ...boot, freeBytes: fat.freeBytes, label: fat.label },
    root: {
      ...root,
      freeBytes: Math.max(0, superblock.freeBlocks - superblock.reservedBlocks) * superblock.blockSize,
      blockSize: superblock.blockSize,
      freeInodes: superblock.freeInodes,
      label: superblock.label,
      isLast: root.start + root.size === lastEnd,
    },
    architecture: architecture ?? 'unknown',
    osRelease,
    users: parsePasswd(passwd ?? ''),
    groups: parseGroup(group ?? ''),
    cloudInit: ['/user-data', '/meta-data', '/network-config'].some((f) => fatListing.files.has(f)),
    networkManager: markers.get('/usr/sbin/NetworkManager') !== undefined || markers.get('/etc/NetworkManager/system-connections') !== undefined,
    bootMount: markers.get('/boot/firmware')?.type === 'directory' ? '/boot/firmware' : '/boot',
    swap: markers.get('/usr/lib/systemd/system-generators/rpi-swap-generator') || markers.get('/etc/rpi/swap.conf') ? 'rpi-swap'
      : markers.get('/usr/sbin/dphys-swapfile') || markers.get('/etc/dphys-swapfile') ? 'dphys-swapfile' : 'none',
    fakeHwclock: readFakeHwclock(markers.get('/etc/fake-hwclock.data')),
    docker: markers.get('/usr/bin/docker') !== undefined,
    rsaHostKey: markers.get('/etc/ssh/ssh_host_rsa_key') !== undefined,
    hypriot: osRelease.HYPRIOT_IMAGE_VERSION !== undefined || osRelease.HYPRIOT_DEVICE !== undefined,
    cgroupV1: isCgroupV1(osRelease, cmdline ?? ''),
    timesyncd: markers.get('/usr/lib/systemd/systemd-timesyncd') !== undefined || markers.get('/lib/systemd/systemd-timesyncd') !== undefined,
    hostKeyRegeneration: markers.get('/usr/lib/systemd/system/regenerate_ssh_host_keys.service') !== undefined
      || markers.get('/lib/systemd/system/regenerate_ssh_host_keys.service') !== undefined,
    ...(cmdline === undefined ? {} : { cmdline: cmdline.replace(/\n+$/, '') }),
  };
}

// Files whose presence tells how the base is put together.
const MARKERS = ['/usr/sbin/NetworkManager', '/etc/NetworkManager/system-connections', '/boot/firmware', '/usr/sbin/dphys-swapfile',
  '/etc/dphys-swapfile', '/etc/rpi/swap.conf', '/usr/lib/systemd/system-generators/rpi-swap-generator', '/etc/fake-hwclock.data', '/usr/bin/docker',
  '/etc/ssh/ssh_host_rsa_key', '/usr/lib/systemd/systemd-timesyncd', '/lib/systemd/systemd-timesyncd',
  '/usr/lib/systemd/system/regenerate_ssh_host_keys.service', '/lib/systemd/system/regenerate_ssh_host_keys.service'];

// systemd before 247 (Debian 10 and older) mounts cgroups in hybrid mode, which the kubelet sees as v1.
function isCgroupV1(osRelease: Record<string, string>, cmdline: string): boolean {
  if (/(^|\s)systemd\.unified_cgroup_hierarchy=(0|false|no)(\s|$)/.test(cmdline)) return true;
  const version = Number.parseInt(osRelease.VERSION_ID ?? '', 10);
  return Number.isFinite(version) && version <= 10;
}

function readFakeHwclock(inode: ExtInode | undefined): ImageFacts['fakeHwclock'] {
  if (!inode) return { kind: 'absent' };
  if (inode.type === 'symlink' && inode.linkTarget) return { kind: 'symlink', target: inode.linkTarget };
  return { kind: 'file' };
}

async function readOsRelease(volume: ExtVolume): Promise<Record<string, string>> {
  const text = (await readExtText(volume, '/usr/lib/os-release')) ?? (await readExtText(volume, '/etc/os-release')) ?? '';
  const result: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=("?)(.*)\2$/.exec(line.trim());
    if (match?.[1]) result[match[1]] = match[3] ?? '';
  }
  return result;
}

// The userland's architecture, from the ELF header of a binary every Debian-family image has.
async function readArchitecture(volume: ExtVolume): Promise<string | undefined> {
  const dir = await makeTempFolder(tmpdir(), 'pikube-elf-');
  try {
    for (const candidate of ['/usr/bin/env', '/bin/busybox', '/usr/bin/ls', '/bin/ls', '/sbin/init']) {
      const target = join(dir, 'elf');
      if (!(await dumpExtFile(volume, candidate, target))) continue;
      const header = await readFile(target).catch(() => Buffer.alloc(0));
      const architecture = readElfArchitecture(header.subarray(0, 64));
      if (architecture) return architecture;
    }
    return undefined;
  } finally {
    await removeTempFolder(dir);
  }
}

function parsePasswd(text: string): ImageFacts['users'] {
  const users: ImageFacts['users'] = {};
  for (const line of text.split('\n')) {
    const [name, , uid, gid, , home] = line.split(':');
    if (name && uid !== undefined && gid !== undefined) users[name] = { uid: Number(uid), gid: Number(gid), home: home ?? '' };
  }
  return users;
}

function parseGroup(text: string): ImageFacts['groups'] {
  const groups: ImageFacts['groups'] = {};
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name && gid !== undefined) groups[name] = Number(gid);
  }
  return groups;
}
