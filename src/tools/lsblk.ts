import { runTool } from './run.ts';

export interface BlockDeviceDescription {
  device: string;
  size: number;
  type: string;
  removable: boolean;
  // Hot-pluggable (USB, SD readers that report fixed media), read-only, and whether the kernel calls it virtual
  // (no bus below the block layer): the facts drivelist derives "removable" and "system" from.
  hotplug: boolean;
  readOnly: boolean;
  virtual: boolean;
  model: string;
  transport: string;
  // Mount points of the device and of every partition on it.
  mountpoints: string[];
}

interface LsblkNode {
  path: string;
  size: number | null;
  type: string;
  rm: boolean | string;
  hotplug: boolean | string;
  ro: boolean | string;
  subsystems: string | null;
  model: string | null;
  tran: string | null;
  mountpoints?: (string | null)[];
  children?: LsblkNode[];
}

// Describes one block device (a card named by --device, a loop device), partitions included.
export async function describeBlockDevice(device: string): Promise<BlockDeviceDescription> {
  const { stdout } = await runTool('lsblk', ['--json', '--bytes', '--output', 'PATH,SIZE,TYPE,RM,HOTPLUG,RO,SUBSYSTEMS,MODEL,TRAN,MOUNTPOINTS', device]);
  const root = (JSON.parse(stdout) as { blockdevices: LsblkNode[] }).blockdevices[0];
  if (!root) throw new Error(`lsblk printed no device for ${device}`);
  return {
    device: root.path,
    size: Number(root.size ?? 0),
    type: root.type,
    removable: isSet(root.rm),
    hotplug: isSet(root.hotplug),
    readOnly: isSet(root.ro),
    virtual: /^block$/i.test(root.subsystems ?? ''),
    model: (root.model ?? '').trim(),
    transport: root.tran ?? '',
    mountpoints: collectMountpoints(root),
  };
}

function collectMountpoints(node: LsblkNode): string[] {
  const own = (node.mountpoints ?? []).filter((m): m is string => typeof m === 'string' && m.length > 0);
  return [...own, ...(node.children ?? []).flatMap(collectMountpoints)];
}

function isSet(flag: boolean | string | undefined): boolean {
  return flag === true || flag === '1';
}
