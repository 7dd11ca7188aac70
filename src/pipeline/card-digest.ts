import { createHash } from 'node:crypto';
import type { Plan, PlanEntry } from '../plan/types.ts';

// What decides whether a cluster card must be written again: the sha256 of its whole plan (every entry, its mode,
// owner and content digest; the growth; every input's digest) in a fixed order, leaving out only what names the
// build rather than the card (entries stamped with the build time, host paths of the work folder). Two builds of an
// unchanged node with the same kept secrets give the same digest, so its image is kept as it is.
export function digestCardPlan(plan: Plan): string {
  const entries = plan.entries
    .filter((entry) => !(entry.type === 'file' && entry.stamped))
    .map(normalizeEntry)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const canonical = {
    pikube: plan.pikubeVersion,
    base: { label: plan.base.label, diskId: plan.base.diskId, architecture: plan.base.architecture },
    growth: plan.growth,
    inputs: plan.inputs,
    entries,
  };
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

function normalizeEntry(entry: PlanEntry): { key: string; entry: unknown } {
  const { origin: _origin, ...rest } = entry;
  const body = rest.type === 'file' && rest.content.kind === 'host'
    ? { ...rest, content: { kind: 'host', size: rest.content.size, sha256: rest.content.sha256 } }
    : rest.type === 'file' && rest.content.kind === 'text'
      ? { ...rest, content: { kind: 'text', sha256: createHash('sha256').update(rest.content.text).digest('hex') } }
      : rest;
  return { key: `${entry.partition}:${entry.path}`, entry: body };
}
