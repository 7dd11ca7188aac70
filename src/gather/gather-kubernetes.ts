import { resolve } from 'node:path';
import type { AcquireOptions } from '../acquire/acquire-options.ts';
import { readOverlay } from '../acquire/local-inputs.ts';
import type { Recipe } from '../config/schema.ts';
import { InternalError, UserError } from '../errors.ts';
import type { K3sPki } from '../kube/pki/k3s-pki.ts';
import { generateK3sPki } from '../kube/pki/k3s-pki.ts';
import type { KubeNodeRole, KubernetesShared } from '../kube/plan-kubernetes.ts';
import type { StaticSecrets } from '../kube/static/plan-static.ts';
import type { ImageFacts } from '../plan/types.ts';
import { acquireK3s } from './acquire-k3s.ts';
import { gatherApps } from './gather-apps.ts';
import { gatherStatic } from './gather-static.ts';
import { pullImageTarballs } from './pull-images.ts';

// Where and with what the Kubernetes inputs are gathered: the cache and mirrors, the scratch folder, the build's
// time and the recipe's folder.
export interface KubernetesContext {
  acquire: AcquireOptions & { registryMirror?: string };
  workDir: string;
  builtAt: Date;
  recipeDir: string;
  // A cluster's first server, as its card sees the recipe, with its role: the static profile makes its PKI.
  clusterServer?: { recipe: Recipe; role: KubeNodeRole };
  // A cluster's kept secrets: reused instead of made anew, so earlier cards keep working with the new ones.
  secrets?: { k3s?: K3sPki; static?: StaticSecrets };
}

const DAY_MS = 24 * 60 * 60 * 1000;

// Gathers what the chosen profile needs (artifacts, images, build contexts, a fresh cluster PKI), once per build.
export async function gatherKubernetes(recipe: Recipe, facts: ImageFacts, context: KubernetesContext): Promise<KubernetesShared> {
  const kubernetes = recipe.kubernetes;
  if (!kubernetes) throw new InternalError('gatherKubernetes called for a recipe without kubernetes:');
  if (kubernetes.distribution === 'static') {
    const server = context.clusterServer;
    if (recipe.cluster && server?.role.distribution !== 'static') throw new InternalError('a static cluster was gathered without its server');
    const shared = await gatherStatic(recipe, facts, context, server?.role.distribution === 'static' ? { recipe: server.recipe, role: server.role } : undefined);
    return { distribution: 'static', ...shared, apps: await gatherApps(recipe, context.recipeDir, context.workDir, context.acquire) };
  }
  const builds = [];
  for (const [i, build] of kubernetes.build.entries()) {
    const items = await readOverlay(resolve(context.recipeDir, build.context));
    if (!items.some((item) => item.kind === 'file' && item.relative === 'Dockerfile')) {
      throw new UserError(`kubernetes.build[${i}].context ${build.context} has no Dockerfile`, 'point context at the folder that holds the Dockerfile');
    }
    builds.push({ name: build.name, items });
  }
  if (builds.length > 0 && !facts.docker) {
    throw new UserError('kubernetes.build needs docker on the Pi, and this base has none', 'build the image on your computer and push it to a registry, then list it under `images:`; or use a base with Docker (Hypriot)');
  }
  const artifacts = await acquireK3s(kubernetes.version, facts.architecture, context.acquire);
  const { tarballs, inputs: imageInputs } = await pullImageTarballs(recipe.images, facts.architecture, context.workDir, context.acquire);
  const pki = context.secrets?.k3s ?? await generateK3sPki({ notBefore: new Date(context.builtAt.getTime() - DAY_MS) });
  const apps = await gatherApps(recipe, context.recipeDir, context.workDir, context.acquire);
  return { distribution: 'k3s', artifacts, tarballs, imageInputs, builds, pki, builtAt: context.builtAt, apps };
}

