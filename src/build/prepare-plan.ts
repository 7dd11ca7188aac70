import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { hashFile, readLocalFile, readOverlay, type LocalFile } from '../acquire/local-inputs.ts';
import { loadRecipe, type LoadedRecipe } from '../config/load-recipe.ts';
import { readImageFacts } from '../image/read-facts.ts';
import { buildPlan } from '../plan/build-plan.ts';
import type { ImageFacts, Plan } from '../plan/types.ts';
import { hashPassword } from '../tools/openssl.ts';
import { PIKUBE_VERSION } from '../version.ts';
import { readBuildClock, type BuildClock } from './build-clock.ts';

export interface PrepareOptions {
  config: string;
  // --base, relative to the working directory; overrides the recipe's base.
  base?: string;
}

export interface PreparedBuild {
  loaded: LoadedRecipe;
  basePath: string;
  facts: ImageFacts;
  plan: Plan;
  clock: BuildClock;
}

// config -> acquire -> plan: everything up to the first write, shared by `build` and `plan`.
export async function preparePlan(options: PrepareOptions): Promise<PreparedBuild> {
  const loaded = await loadRecipe(options.config);
  const { recipe, directory } = loaded;
  const clock = readBuildClock();
  const recipeBase = typeof recipe.base === 'string' ? recipe.base : recipe.base.source;
  const basePath = options.base ? resolve(options.base) : resolve(directory, recipeBase);
  const baseSha256 = hashFile(basePath).catch(() => '');
  const facts = await readImageFacts(basePath);
  const overlay = recipe.overlay ? await readOverlay(resolve(directory, recipe.overlay)) : [];
  const sources = new Map<number, LocalFile>();
  for (const [i, file] of recipe.files.entries()) {
    if (file.source !== undefined) sources.set(i, await readLocalFile(resolve(directory, file.source), `files[${i}].source`));
  }
  const recipeSha256 = createHash('sha256').update(loaded.text).digest('hex');
  const passwordHash = recipe.user?.passwordHash ?? (recipe.user?.password
    ? await hashPassword(recipe.user.password, clock.token(`salt:${recipeSha256}`, 16))
    : undefined);
  const plan = buildPlan(recipe, facts, {
    pikubeVersion: PIKUBE_VERSION,
    recipeSha256,
    baseInput: { role: 'base', name: recipeBase, sha256: await baseSha256 },
    builtAt: new Date(clock.epochSeconds * 1000).toISOString(),
    overlay,
    sources,
    ...(passwordHash ? { passwordHash } : {}),
    instanceId: `pikube-${clock.token(`instance:${recipeSha256}`, 12)}`,
  });
  return { loaded, basePath, facts, plan, clock };
}
