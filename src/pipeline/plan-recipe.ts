import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectImageFormat } from '../acquire/image-format.ts';
import { runSignal } from '../interrupt.ts';
import { formatPlan } from '../plan/format-plan.ts';
import { loadRecipe } from '../config/load-recipe.ts';
import { UserError } from '../errors.ts';
import { makeTempFolder, removeTempFolder } from '../temp-folder.ts';
import type { BuildFlags } from './load-build.ts';

export interface PlanOptions extends BuildFlags {
  // Print the plan as JSON instead of one line per entry.
  json?: boolean;
  // With `cluster:`: the folder, cards and secrets a build would use (as `pikube build` takes them).
  output?: string;
  only?: string[];
  secrets?: string;
}

const BUILD_SAYS = { write: 'a build writes this card', keep: 'unchanged: a build keeps this card byte for byte', 'keep-stale': 'changed, but --only leaves it as it is', skip: 'left out by --only' } as const;

// `pikube plan`: every entry the build would write (for each card of a cluster), printed on stdout, without
// touching the base or any output; the base is unpacked into a temporary folder only when it is not a plain image.
export async function planRecipe(options: PlanOptions): Promise<void> {
  const loaded = await loadRecipe(options.config);
  const [{ ensureTools }, { loadBuild, unpackBase }] = await Promise.all([import('../tools/check-tools.ts'), import('./load-build.ts')]);
  await ensureTools('plan');
  if (!loaded.recipe.cluster && (options.only || options.secrets)) {
    throw new UserError(`${options.only ? '--only' : '--secrets'} is for a recipe with \`cluster:\``, 'a single-card recipe plans one image: leave the flag out');
  }
  const session = await loadBuild(options, loaded);
  const work = await makeTempFolder(tmpdir(), 'pikube-plan-');
  try {
    let image = session.archivePath;
    if ((await detectImageFormat(image)) !== 'raw') {
      image = join(work, 'base.img');
      await unpackBase(session, image, runSignal);
    } else {
      await session.base;
    }
    if (session.loaded.recipe.cluster) {
      // One plan per card, with the cluster's kept secrets when it has some, and what a build would do with each.
      const { planCluster } = await import('./plan-cluster.ts');
      const cards = await planCluster(session, image, work, options);
      process.stdout.write(options.json ? `${JSON.stringify(cards, null, 2)}\n` : cards.map((c) => `== ${c.hostname} (${c.role}): ${BUILD_SAYS[c.build]}\n${formatPlan(c.plan)}`).join('\n'));
      return;
    }
    const { gatherAndPlanBuild } = await import('./plan-card.ts');
    const { plan } = await gatherAndPlanBuild(session, image, work);
    process.stdout.write(options.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
  } finally {
    await removeTempFolder(work);
  }
}
