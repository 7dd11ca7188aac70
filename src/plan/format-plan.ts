import type { Plan, PlanEntry } from './types.ts';
import { formatMiB } from '../format-bytes.ts';

// The human-readable plan: one line per entry, grouped by partition, with where each entry came from.
export function formatPlan(plan: Plan): string {
  const lines = [
    `base: ${plan.base.path} (${plan.base.label === 'dos' ? 'MBR' : 'GPT'}, disk id ${plan.base.diskId}, ${plan.base.architecture})`,
    `growth: ${plan.growth ? `partition ${plan.growth.partition} ${formatMiB(plan.growth.fromBytes)} -> ${formatMiB(plan.growth.toBytes)}, image ${formatMiB(plan.growth.imageBytes)} (${plan.growth.reason})` : 'none needed'}`,
    `payload: boot ${formatMiB(plan.payloadBytes.boot)}, root ${formatMiB(plan.payloadBytes.root)}`,
  ];
  for (const partition of ['boot', 'root'] as const) {
    const entries = plan.entries.filter((e) => e.partition === partition);
    lines.push(`${partition} (${entries.length} entries):`);
    for (const entry of entries) lines.push(`  ${formatEntry(entry)}`);
  }
  lines.push('inputs:');
  for (const input of plan.inputs) lines.push(`  ${input.role.padEnd(10)} ${input.sha256.slice(0, 16)}…  ${input.name}`);
  return `${lines.join('\n')}\n`;
}

function formatEntry(entry: PlanEntry): string {
  const owner = `${entry.uid}:${entry.gid}`.padEnd(9);
  switch (entry.type) {
    case 'directory':
      return `dir      ${entry.mode.toString(8).padStart(4, '0')}  ${owner} ${entry.path}${entry.ensure ? '  (if missing)' : ''}  <- ${entry.origin}`;
    case 'symlink':
      return `symlink  0777  ${owner} ${entry.path} -> ${entry.target}  <- ${entry.origin}`;
    case 'file': {
      const size = entry.content.kind === 'text' ? Buffer.byteLength(entry.content.text) : entry.content.size;
      return `file     ${entry.mode.toString(8).padStart(4, '0')}  ${owner} ${entry.path}  (${size} B)  <- ${entry.origin}`;
    }
  }
}

