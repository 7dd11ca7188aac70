import type { Drive } from 'drivelist';

export interface DriveInfo {
  device: string;
  size: number;
  model: string;
  bus: string;
  removable: boolean;
  system: boolean;
  virtual: boolean;
  readOnly: boolean;
  mountpoints: string[];
}

export type ListDriveFunction = () => Promise<Drive[]>;

// The machine's drives as drivelist sees them; tests pass a fake `list` for the safety rules only. drivelist (a
// native addon) is loaded only here, so `pikube flash --device` never pays for it.
export async function listDrives(list?: ListDriveFunction): Promise<DriveInfo[]> {
  const drives = await (list ?? (await import('drivelist')).list)();
  return drives.map((drive) => ({
    device: drive.device,
    size: drive.size ?? 0,
    model: drive.description.trim(),
    bus: drive.busType,
    removable: drive.isRemovable,
    system: drive.isSystem,
    virtual: drive.isVirtual === true,
    readOnly: drive.isReadOnly,
    mountpoints: drive.mountpoints.map((mountpoint) => mountpoint.path),
  }));
}

// Drives a card could be: removable, not the system, not virtual (zram), with a size, holding nothing at `/`.
export function findCardCandidates(drives: readonly DriveInfo[]): DriveInfo[] {
  return drives.filter((d) => d.removable && !d.system && !d.virtual && !d.readOnly && d.size > 0 && !d.mountpoints.includes('/'));
}
