import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectImageFormat } from '../acquire/image-format.ts';
import { runSignal } from '../interrupt.ts';
import { formatPlan } from '../plan/format-plan.ts';
import { loadRecipe } from '../config/load-recipe.ts';
import { makeTempFolder, removeTempFolder } from '../temp-folder.ts';
import type { BuildFlags } from './load-build.ts';

export interface PlanOptions extends BuildFlags {
  // Print the plan as JSON instead of one line per entry.
  json?: boolean;
}

// `pikube plan`: every entry the build would write (for each card of a cluster), printed on stdout, without
// touching the base or any output; the base is unpacked into a temporary folder only when it is not a plain image.
export async function planRecipe(options: PlanOptions): Promise<void> {
  const loaded = await loadRecipe(options.config);
  const [{ ensureTools }, { loadBuild, unpackBase }] = await Promise.all([import('../tools/check-tools.ts'), import('./load-build.ts')]);
  await ensureTools('plan');
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
      // One plan per card; the SSH host keys each card gets are made only by `build`, but what keeps them is shown.
      const [{ gatherBuild }, { planNode }, { listClusterNodes }] = await Promise.all([import('../gather/gather-build.ts'), import('./plan-card.ts'), import('../kube/cluster-nodes.ts')]);
      const gathered = await gatherBuild(session, image, work);
      const nodes = listClusterNodes(session.loaded.recipe).map((node) => ({ hostname: node.hostname, role: node.role, plan: planNode(session, gathered, node.recipe, { role: node.kube, ownHostKeys: true }) }));
      process.stdout.write(options.json ? `${JSON.stringify(nodes, null, 2)}\n` : nodes.map((n) => `== ${n.hostname} (${n.role})\n${formatPlan(n.plan)}`).join('\n'));
      return;
    }
    const { gatherAndPlanBuild } = await import('./plan-card.ts');
    const { plan } = await gatherAndPlanBuild(session, image, work);
    process.stdout.write(options.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
  } finally {
    await removeTempFolder(work);
  }
}
