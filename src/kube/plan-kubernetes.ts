import { resolve } from 'node:path';
import type { AcquireOptions } from '../acquire/acquire-options.ts';
import { readLocalFile, readOverlay } from '../acquire/local-inputs.ts';
import type { Recipe } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import type { BuildInput, ImageFacts, PlanEntry } from '../plan/types.ts';
import { FIRSTBOOT_SCRIPT } from './firstboot.ts';
import { acquireK3s } from './k3s/acquire-k3s.ts';
import { nodeAddresses, planK3s } from './k3s/plan-k3s.ts';
import { makeKubeconfig } from './kubeconfig.ts';
import { generateK3sPki } from './pki/k3s-pki.ts';
import { pullImageTarballs } from './pull-images.ts';
import { planStaticProfile } from './static/plan-static.ts';

export interface KubernetesContext {
  acquire: AcquireOptions & { registryMirror?: string };
  workDir: string;
  builtAt: Date;
  recipeDir: string;
}

export interface KubernetesPlan {
  entries: PlanEntry[];
  inputs: BuildInput[];
  kubeconfig: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

// Gathers what the chosen profile needs (artifacts, images, build contexts, a fresh cluster PKI) and returns its
// plan entries plus the kubeconfig that lets the user's computer trust the node before it has booted.
export async function planKubernetes(recipe: Recipe, facts: ImageFacts, context: KubernetesContext): Promise<KubernetesPlan> {
  const kubernetes = recipe.kubernetes;
  if (!kubernetes) throw new UserError('no kubernetes section in the recipe', 'add `kubernetes: { distribution: k3s }`');
  if (!recipe.hostname) {
    throw new UserError('kubernetes needs a `hostname:`: it names the node, its certificates and the kubeconfig', 'add `hostname: pi-1` (unique per card) to the recipe');
  }
  if (kubernetes.distribution === 'static' && kubernetes.build.length > 0) {
    throw new UserError('kubernetes.build needs docker on the Pi, and the static profile installs only containerd', 'build the image on your computer and push it to a registry, then list it under `images:`');
  }
  if (kubernetes.distribution === 'static') return planStaticProfile(recipe, facts, context);
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
  const pki = await generateK3sPki({ notBefore: new Date(context.builtAt.getTime() - DAY_MS) });
  const script = await readLocalFile(FIRSTBOOT_SCRIPT, 'pikube first-boot script');
  const entries = planK3s(recipe, facts, {
    version: artifacts.version, binary: artifacts.binary, airgap: artifacts.airgap, pki,
    images: tarballs.map(({ reference, file }) => ({ reference, file })), builds, script, builtAt: context.builtAt,
  });
  const { names, ips } = nodeAddresses(recipe);
  const kubeconfig = makeKubeconfig({
    clusterName: recipe.hostname,
    server: `https://${ips[0] ?? names[1]}:6443`,
    caPem: pki.serverCaPem,
    userName: `${recipe.hostname}-admin`,
    certPem: pki.admin.certPem,
    keyPem: pki.admin.keyPem,
  });
  return {
    entries,
    inputs: [...artifacts.inputs, ...imageInputs, ...builds.flatMap((b) => b.items.flatMap((item) => (item.kind === 'file' ? [{ role: `build ${b.name}`, name: item.relative, sha256: item.sha256 }] : [])))],
    kubeconfig,
  };
}
