import type { z } from 'zod';
import type { Recipe } from './schema.ts';

type Context = z.core.$RefinementCtx<Recipe>;

// ARMv6 (BCM2835): Pi 1, Zero, Zero W, Compute Module 1. k3s's armhf build and every arm64 image need ARMv7 or later.
const ARMV6_BOARDS: ReadonlyArray<string> = ['pi1', 'pi-zero', 'pi-zero-w', 'cm1'];

// The Kubernetes rules that need only the recipe, reported with their YAML lines before anything is downloaded or
// unpacked (the rules that need the base's facts, such as docker for `build:`, wait for the base).
export function checkKubernetes(recipe: Recipe, ctx: Context): void {
  const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
  const { kubernetes } = recipe;
  if (!kubernetes) {
    if (recipe.images.length > 0) issue(['images'], 'images are loaded by a Kubernetes profile: add `kubernetes: { distribution: k3s }`, or remove `images:`');
    return;
  }
  if (recipe.board && ARMV6_BOARDS.includes(recipe.board)) {
    issue(['board'], `${recipe.board} has an ARMv6 CPU, and k3s (armhf) and the static profile (arm64) need ARMv7 or later: use a Pi 2, Zero 2 W or later, or remove \`kubernetes:\` for this card`);
  }
  if (!recipe.hostname && !recipe.cluster) issue(['kubernetes'], 'kubernetes needs a `hostname:`: it names the node, its certificates and the kubeconfig; add `hostname: pi-1` (unique per card)');
  if (kubernetes.distribution !== 'static') return;
  if (kubernetes.build.length > 0) {
    issue(['kubernetes', 'build'], 'needs docker on the Pi, and the static profile installs only containerd: build the image on your computer, push it to a registry and list it under `images:`');
  }
  if (kubernetes.disable.length > 0) {
    issue(['kubernetes', 'disable'], 'names k3s components, and the static profile has none of them: remove it (the static profile installs only kube-proxy and CoreDNS as addons)');
  }
}
