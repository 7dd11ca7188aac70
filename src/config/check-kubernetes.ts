import type { z } from 'zod';
import { checkK3sVersion } from '../acquire/k3s-release.ts';
import { checkStaticVersion } from '../acquire/static-release.ts';
import type { Recipe } from './schema.ts';

type Context = z.core.$RefinementCtx<Recipe>;

// ARMv6 (BCM2835): Pi 1, Zero, Zero W, Compute Module 1. k3s's armhf build and every arm64 image need ARMv7 or later.
const ARMV6_BOARDS: ReadonlyArray<string> = ['pi1', 'pi-zero', 'pi-zero-w', 'cm1'];

// The Kubernetes rules that span top-level keys, reported with their YAML lines before anything is downloaded or
// unpacked (the rules that need the base's facts, such as docker for `build:`, wait for the base).
export function checkKubernetes(recipe: Recipe, ctx: Context): void {
  const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
  const { kubernetes } = recipe;
  if (!kubernetes) {
    if (recipe.images.length > 0) issue(['images'], 'images are loaded by a Kubernetes profile: add `kubernetes: { distribution: k3s }`, or remove `images:`');
    for (const key of ['manifests', 'charts'] as const) {
      if (recipe[key].length > 0) issue([key], `${key} are applied by a Kubernetes profile: add \`kubernetes: { distribution: k3s }\`, or remove \`${key}:\``);
    }
    return;
  }
  if (recipe.board && ARMV6_BOARDS.includes(recipe.board)) {
    issue(['board'], `${recipe.board} has an ARMv6 CPU, and k3s (armhf) and the static profile (arm64) need ARMv7 or later: use a Pi 2, Zero 2 W or later, or remove \`kubernetes:\` for this card`);
  }
  if (!recipe.hostname && !recipe.cluster) issue(['kubernetes'], 'kubernetes needs a `hostname:`: it names the node, its certificates and the kubeconfig; add `hostname: pi-1` (unique per card)');
  if (kubernetes.distribution === 'static' && recipe.charts.length > 0) {
    issue(['charts'], 'the static profile has no Helm controller to install charts: render the chart on your computer (`helm template NAME CHART -f values.yaml > app.yaml`) and list the file under `manifests:`, or use `distribution: k3s`');
  }
}

interface Kubernetes {
  distribution: 'k3s' | 'static';
  version?: string | undefined;
  disable: string[];
  build: unknown[];
}

// The rules inside `kubernetes:` alone, run as soon as that section is valid: the version must be one the
// distribution publishes (k3s tags end in +k3sN; the static profile has images pinned per minor), and the static
// profile has neither docker for `build:` nor k3s components to `disable:`.
export function checkKubernetesSection(kubernetes: Kubernetes, ctx: z.core.$RefinementCtx<Kubernetes>): void {
  const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (kubernetes.version !== undefined) {
    const problem = kubernetes.distribution === 'static' ? checkStaticVersion(kubernetes.version) : checkK3sVersion(kubernetes.version);
    if (problem) issue(['version'], `${problem.message.replace(/^kubernetes\.version /, '')}: ${problem.hint}`);
  }
  if (kubernetes.distribution !== 'static') return;
  if (kubernetes.build.length > 0) {
    issue(['build'], 'needs docker on the Pi, and the static profile installs only containerd: build the image on your computer, push it to a registry and list it under `images:`');
  }
  if (kubernetes.disable.length > 0) {
    issue(['disable'], 'names k3s components, and the static profile has none of them: remove it (the static profile installs only kube-proxy and CoreDNS as addons)');
  }
}
