import { UserError } from '../errors.ts';
import { runTool } from './run.ts';

export interface PartitionEntry {
  number: number;
  start: number;
  size: number;
  type: string;
  uuid?: string;
  name?: string;
  bootable: boolean;
}

export interface PartitionTable {
  label: 'dos' | 'gpt';
  id: string;
  sectorSize: number;
  partitions: PartitionEntry[];
}

interface SfdiskJson {
  partitiontable: {
    label: string;
    id: string;
    sectorsize?: number;
    partitions?: Array<{ node: string; start: number; size: number; type: string; uuid?: string; name?: string; bootable?: boolean }>;
  };
}

// Reads an image's MBR or GPT; a file with no table is the user's problem, not a crash. `name` is how the
// user knows the file (a temporary copy being edited is named for the base it came from).
export async function readPartitionTable(image: string, name = image): Promise<PartitionTable> {
  const { table, stderr } = await dumpPartitionTable(image, name);
  if (!table) {
    throw new UserError(`${name} has no partition table sfdisk can read${stderr ? ` (${stderr.replaceAll(image, name)})` : ''}`,
      'give a Raspberry Pi OS or Hypriot disk image (.img, or the archive it came in), not a single partition or another file');
  }
  return table;
}

// An image's MBR or GPT, or undefined when it has none (a file that is not a disk image at all).
export async function findPartitionTable(image: string, name = image): Promise<PartitionTable | undefined> {
  return (await dumpPartitionTable(image, name)).table;
}

async function dumpPartitionTable(image: string, name: string): Promise<{ table?: PartitionTable; stderr: string }> {
  const result = await runTool('sfdisk', ['--json', image], { okExitCodes: [1] });
  if (result.exitCode !== 0 || !result.stdout.trim()) return { stderr: result.stderr.trim() };
  const json = JSON.parse(result.stdout) as SfdiskJson;
  const table = json.partitiontable;
  if (table.label !== 'dos' && table.label !== 'gpt') {
    throw new UserError(`${name} has a ${table.label} partition table`, 'pikube reads MBR (dos) and GPT images only');
  }
  return { stderr: '', table: {
    label: table.label,
    id: table.id,
    sectorSize: table.sectorsize ?? 512,
    partitions: (table.partitions ?? []).map((p) => ({
      number: Number(/(\d+)$/.exec(p.node)?.[1] ?? 0),
      start: p.start,
      size: p.size,
      type: p.type,
      uuid: p.uuid,
      name: p.name,
      bootable: Boolean(p.bootable),
    })),
  } };
}

// Grows partition N to the end of the (already extended) image; sfdisk keeps the disk identifier and PARTUUIDs.
export async function growPartitionToEnd(image: string, number: number, label: 'dos' | 'gpt'): Promise<void> {
  if (label === 'gpt') await runTool('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', '--relocate', 'gpt-bak-std', image]);
  await runTool('sfdisk', ['--quiet', '--no-reread', '--no-tell-kernel', '-N', String(number), image], { input: ', +\n' });
}
