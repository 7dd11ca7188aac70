import { z } from 'zod';
import type { BuildRecord } from '../plan/build-record.ts';
import { BUILD_RECORD_PATH } from '../plan/build-record.ts';
import type { ImageFacts } from '../plan/types.ts';
import { readExtText } from '../tools/debugfs.ts';
import { readImageFacts } from './read-facts.ts';
import { formatMiB } from '../format-bytes.ts';

export interface Inspection {
  facts: ImageFacts;
  buildRecord: BuildRecord | null;
  // Set when the image holds a build record that is not one pikube wrote (damaged, or edited by hand).
  buildRecordProblem?: string;
}

// The shape pikube writes; the file lives in the image, so anything may be there by the time it is read back.
const buildRecordSchema = z.object({
  pikube: z.string(),
  builtAt: z.string(),
  recipeSha256: z.string(),
  base: z.object({ diskId: z.string(), architecture: z.string() }),
  inputs: z.array(z.object({ role: z.string(), name: z.string(), sha256: z.string(), url: z.string().optional() })),
});

// What an image is: its table and filesystems, its OS and architecture, and how pikube built it (if it did).
export async function inspectImage(image: string): Promise<Inspection> {
  const facts = await readImageFacts(image);
  const text = await readExtText({ image, offset: facts.root.start * facts.table.sectorSize }, BUILD_RECORD_PATH);
  if (!text) return { facts, buildRecord: null };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { facts, buildRecord: null, buildRecordProblem: `${BUILD_RECORD_PATH} is not JSON` };
  }
  const parsed = buildRecordSchema.safeParse(data);
  if (!parsed.success) return { facts, buildRecord: null, buildRecordProblem: `${BUILD_RECORD_PATH} does not have the shape pikube writes` };
  return { facts, buildRecord: parsed.data };
}

// The report `pikube inspect` prints for people.
export function formatInspection({ facts, buildRecord, buildRecordProblem }: Inspection): string {
  const sector = facts.table.sectorSize;
  const lines = [
    `image: ${facts.path} (${formatMiB(facts.size)})`,
    `partition table: ${facts.table.label === 'dos' ? 'MBR' : 'GPT'}, disk id ${facts.table.id}, ${sector}-byte sectors`,
  ];
  for (const p of facts.table.partitions) {
    const role = p.number === facts.boot.number ? `boot  FAT   label "${facts.boot.label}", ${formatMiB(facts.boot.freeBytes)} free`
      : p.number === facts.root.number ? `root  ext4  label "${facts.root.label}", ${formatMiB(facts.root.freeBytes)} free` : '';
    lines.push(`  #${p.number}  start ${p.start}  ${formatMiB(p.size * sector).padStart(12)}  type ${p.type}  PARTUUID ${p.partuuid}  ${role}`);
  }
  lines.push(`os: ${facts.osRelease.PRETTY_NAME ?? 'unknown (no os-release)'}`);
  lines.push(`architecture: ${facts.architecture}`);
  lines.push(`first boot: ${facts.cloudInit ? 'cloud-init files on the boot partition' : 'no cloud-init seed'}${facts.networkManager ? ', NetworkManager' : ''}`);
  if (buildRecord) {
    lines.push(`built by pikube ${buildRecord.pikube} at ${buildRecord.builtAt}, recipe sha256 ${buildRecord.recipeSha256}`);
    for (const input of buildRecord.inputs) lines.push(`  input ${input.role}: ${input.name} sha256 ${input.sha256}`);
  } else {
    lines.push(`pikube build record: ${buildRecordProblem ? `unreadable (${buildRecordProblem})` : 'none'}`);
  }
  return `${lines.join('\n')}\n`;
}
