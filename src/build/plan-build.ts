import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { readLocalFile, readOverlay, type LocalFile } from '../acquire/local-inputs.ts';
import { UserError } from '../errors.ts';
import { readImageFacts } from '../image/read-facts.ts';
import { log } from '../log.ts';
import { buildPlan } from '../plan/build-plan.ts';
import type { BuildInput, ImageFacts, Plan, PlanEntry } from '../plan/types.ts';
import { planKubernetes } from '../kube/plan-kubernetes.ts';
import { hashPassword } from '../tools/openssl.ts';
import { PIKUBE_VERSION } from '../version.ts';
import type { BuildSession } from './load-build.ts';

export interface PlannedBuild {
  facts: ImageFacts;
  plan: Plan;
  // The admin kubeconfig for the user's computer, when a Kubernetes profile is chosen.
  kubeconfig?: string;
}

// acquire -> plan: reads the facts of the unpacked base at `image`, gathers every input the recipe names
// (local files, Kubernetes artifacts, images, a fresh PKI) into `workDir`, and returns the pure plan.
export async function planBuild(session: BuildSession, image: string, workDir: string): Promise<PlannedBuild> {
  const { recipe, directory, text } = session.loaded;
  const facts = { ...(await readImageFacts(image)), path: session.archivePath };
  const overlay = recipe.overlay ? await readOverlay(resolve(directory, recipe.overlay)) : [];
  const sources = new Map<number, LocalFile>();
  for (const [i, file] of recipe.files.entries()) {
    if (file.source !== undefined) sources.set(i, await readLocalFile(resolve(directory, file.source), `files[${i}].source`));
  }
  const recipeSha256 = createHash('sha256').update(text).digest('hex');
  const { clock } = session;
  const passwordHash = recipe.user?.passwordHash ?? (recipe.user?.password
    ? await hashPassword(recipe.user.password, clock.token(`salt:${recipeSha256}`, 16))
    : undefined);
  if (facts.cloudInit && recipe.hostname && !recipe.user) {
    log.warn('the recipe sets hostname but no user: the base\'s cloud-init user-data is replaced, so define `user:` to keep a login user');
  }
  let extraEntries: PlanEntry[] = [];
  let extraInputs: BuildInput[] = [];
  let kubeconfig: string | undefined;
  if (recipe.kubernetes) {
    ({ entries: extraEntries, inputs: extraInputs, kubeconfig } = await planKubernetes(recipe, facts, { acquire: session.acquire, workDir, builtAt: new Date(clock.epochSeconds * 1000), recipeDir: directory }));
  } else if (recipe.images.length > 0) {
    throw new UserError('`images:` needs a Kubernetes profile to load them', 'add `kubernetes: { distribution: k3s }` to the recipe, or remove `images:`');
  }
  const base = await session.base;
  const plan = buildPlan(recipe, facts, {
    pikubeVersion: PIKUBE_VERSION,
    recipeSha256,
    baseInput: { role: 'base', name: session.baseName, sha256: base.sha256, ...(base.url ? { url: base.url } : {}) },
    builtAt: new Date(clock.epochSeconds * 1000).toISOString(),
    overlay,
    sources,
    ...(passwordHash ? { passwordHash } : {}),
    instanceId: `pikube-${clock.token(`instance:${recipeSha256}`, 12)}`,
    extraEntries,
    extraInputs,
  });
  return { facts, plan, ...(kubeconfig === undefined ? {} : { kubeconfig }) };
}
