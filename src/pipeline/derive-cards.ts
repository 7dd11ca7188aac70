import { rename, stat } from 'node:fs/promises';
import { InterruptedError } from '../errors.ts';
import { countMappedBytes } from '../flash/block-map.ts';
import { writeBmap } from '../flash/write-bmap.ts';
import type { ExtBackend } from '../image/backend.ts';
import { applyPlan } from '../image/apply-plan.ts';
import { throwIfInterrupted } from '../interrupt.ts';
import { log } from '../log.ts';
import type { Plan } from '../plan/types.ts';
import { cloneSparse } from '../tools/cp.ts';

export interface CardJob {
  // Where the card's image goes, and what is written into it on top of the shared image.
  image: string;
  plan: Plan;
  // How the card is named in progress lines ("pi-2 (agent, 192.168.1.51)").
  label: string;
}

export interface DerivedCard {
  size: number;
  // Bytes its block map lists: what flashing the card writes.
  mappedBytes: number;
}

// Derives every card from the image holding what they share, as a pipeline: while one card's own entries are
// written and checked, the next card is copied and the finished ones are block-mapped, so the stages use every
// core. Copies and writes go card by card; the last card takes the shared image itself (no copy).
export async function deriveCards(shared: string, jobs: readonly CardJob[], backend: ExtBackend, signal: AbortSignal): Promise<DerivedCard[]> {
  const copied: Array<Promise<void>> = [];
  const written: Array<Promise<void>> = [];
  const mapped: Array<Promise<DerivedCard>> = [];
  for (const [i, job] of jobs.entries()) {
    copied.push((copied[i - 1] ?? Promise.resolve()).then(async () => {
      throwIfInterrupted(signal);
      if (i < jobs.length - 1) await cloneSparse(shared, job.image, signal);
      else await rename(shared, job.image);
    }));
    written.push(Promise.all([copied[i], written[i - 1]]).then(async () => {
      log.step(`card ${i + 1}/${jobs.length}: ${job.label}`);
      await applyPlan(job.plan, job.image, backend, signal);
    }));
    mapped.push((written[i] as Promise<void>).then(async () => {
      const map = await writeBmap(job.image, `${job.image}.bmap`);
      return { size: (await stat(job.image)).size, mappedBytes: countMappedBytes(map) };
    }));
  }
  const outcomes = await Promise.allSettled([...copied, ...written, ...mapped]);
  const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
  const failure = failures.find((reason) => !(reason instanceof InterruptedError)) ?? failures[0];
  if (failure !== undefined) throw failure;
  return Promise.all(mapped);
}
