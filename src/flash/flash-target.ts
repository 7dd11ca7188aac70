import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { UserError } from '../errors.ts';
import { describeBlockDevice } from '../tools/lsblk.ts';
import type { DriveInfo } from './list-drives.ts';
import { formatBytes } from '../format-bytes.ts';

export interface FlashTarget extends DriveInfo {
  kind: 'block' | 'file';
  loop: boolean;
}

// Describes what --device names: a card or other block device via lsblk (judged removable and system as drivelist
// judges them: removable or hot-pluggable or virtual; system when neither), or a plain image file.
export async function describeTarget(device: string): Promise<FlashTarget> {
  const info = await stat(device).catch(() => undefined);
  if (!info && device.startsWith('/dev/')) {
    throw new UserError(`${device} does not exist`, 'run `pikube drives` to list the drives pikube can see');
  }
  if (!info || info.isFile()) {
    return { device, kind: 'file', loop: false, size: 0, model: 'image file', bus: 'file', removable: true, system: false, virtual: false, readOnly: false, mountpoints: [] };
  }
  if (!info.isBlockDevice()) throw new UserError(`${device} is neither a block device nor a regular file`, 'name the card (e.g. /dev/sdb or /dev/mmcblk0) or an output file');
  const path = await realpath(device);
  const described = await describeBlockDevice(path);
  if (described.type === 'part') {
    throw new UserError(`${device} is a partition, not a whole card`, 'name the whole device, e.g. /dev/sdb rather than /dev/sdb1 (see `pikube drives`)');
  }
  const loop = described.type === 'loop';
  const removable = described.removable || (!loop && (described.hotplug || described.virtual));
  return {
    device: path, kind: 'block', loop, size: described.size, model: described.model || described.type,
    bus: (described.transport || described.type).toUpperCase(), removable,
    system: described.mountpoints.includes('/') || (!loop && !removable),
    virtual: loop || described.virtual, readOnly: described.readOnly, mountpoints: described.mountpoints,
  };
}

// The safety rules: never a system drive, a non-removable one only when asked, and only if the image fits.
export function checkTarget(target: FlashTarget, imageSize: number | undefined, options: { allowNonRemovable?: boolean } = {}): void {
  if (target.kind === 'file') return;
  if (target.system || target.mountpoints.includes('/')) {
    throw new UserError(`${target.device} is a system drive (it holds the running system${target.mountpoints.includes('/') ? ', mounted at /' : ''}); pikube never writes to it`,
      'insert the SD card and pick it: `pikube drives` lists the drives, --device selects one');
  }
  if (target.readOnly) throw new UserError(`${target.device} is read-only`, 'check the lock switch on the SD card or its adapter');
  if (!target.removable && !options.allowNonRemovable) {
    throw new UserError(`${target.device} (${target.model}, ${formatDriveBytes(target.size)}) is not a removable drive`,
      'if this really is the card to overwrite (some readers report cards as fixed), add --allow-non-removable');
  }
  if (imageSize !== undefined && imageSize > target.size) {
    throw new UserError(`the image (${formatDriveBytes(imageSize)}) does not fit on ${target.device} (${formatDriveBytes(target.size)})`, 'use a larger card');
  }
}

// Without write access to the device (not root), say how to run it before anything is touched.
export async function checkWriteAccess(target: FlashTarget, argv: readonly string[]): Promise<void> {
  if (target.kind === 'file') return;
  const allowed = await access(target.device, constants.W_OK).then(() => true, () => false);
  if (allowed && (process.getuid?.() === 0 || target.mountpoints.length === 0)) return;
  throw new UserError(`writing to ${target.device} needs root`, `run it with sudo: sudo ${['pikube', ...argv].join(' ')}`);
}


// Drive sizes in decimal units, as card vendors label them.
export function formatDriveBytes(bytes: number): string {
  return formatBytes(bytes, 'decimal');
}
