import { runTool } from './run.ts';

export interface BlockDeviceDescription {
  device: string;
  size: number;
  type: string;
  removable: boolean;
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
  model: string | null;
  tran: string | null;
  mountpoints?: (string | null)[];
  children?: LsblkNode[];
}

// Describes one block device that drivelist does not list (loop devices, for example), partitions included.
export async function describeBlockDevice(device: string): Promise<BlockDeviceDescription> {
  const { stdout } = await runTool('lsblk', ['--json', '--bytes', '--output', 'PATH,SIZE,TYPE,RM,MODEL,TRAN,MOUNTPOINTS', device]);
  const root = (JSON.parse(stdout) as { blockdevices: LsblkNode[] }).blockdevices[0];
  if (!root) throw new Error(`lsblk printed no device for ${device}`);
  return {
    device: root.path,
    size: Number(root.size ?? 0),
    type: root.type,
    removable: root.rm === true || root.rm === '1',
    model: (root.model ?? '').trim(),
    transport: root.tran ?? '',
    mountpoints: collectMountpoints(root),
  };
}

function collectMountpoints(node: LsblkNode): string[] {
  const own = (node.mountpoints ?? []).filter((m): m is string => typeof m === 'string' && m.length > 0);
  return [...own, ...(node.children ?? []).flatMap(collectMountpoints)];
}
