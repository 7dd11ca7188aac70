import { InternalError } from '../errors.ts';
import type { Plan, PlanEntry } from './types.ts';

// Splits the plans of several cards made from one base into what all of them write identically (applied once to
// the base before it is copied) and what each writes on its own; growth is done once, large enough for every card.
export function splitSharedPlan(plans: readonly Plan[]): { shared: Plan; nodes: Plan[] } {
  const [first] = plans;
  if (!first) throw new InternalError('splitSharedPlan needs at least one plan');
  const key = (entry: PlanEntry) => `${entry.partition}:${entry.path}`;
  const signature = (entry: PlanEntry) => JSON.stringify({ ...entry, origin: undefined });
  const maps = plans.map((plan) => new Map(plan.entries.map((entry) => [key(entry), signature(entry)])));
  const sharedKeys = new Set(first.entries.filter((entry) => maps.every((map) => map.get(key(entry)) === signature(entry))).map(key));
  const growth = plans.map((plan) => plan.growth).reduce((a, b) => (!a || (b && b.imageBytes > a.imageBytes) ? b : a), null);
  const sharedEntries = first.entries.filter((entry) => sharedKeys.has(key(entry)));
  return {
    shared: { ...first, growth, entries: sharedEntries },
    nodes: plans.map((plan) => ({ ...plan, growth: null, entries: plan.entries.filter((entry) => !sharedKeys.has(key(entry))) })),
  };
}
