import type { z } from 'zod';
import type { Recipe } from './schema.ts';

type Context = z.core.$RefinementCtx<Recipe>;

// The Kubernetes rules that need only the recipe, reported with their YAML lines before anything is downloaded or
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
  if (!recipe.hostname && !recipe.cluster) issue(['kubernetes'], 'kubernetes needs a `hostname:`: it names the node, its certificates and the kubeconfig; add `hostname: pi-1` (unique per card)');
  if (kubernetes.distribution !== 'static') return;
  if (recipe.charts.length > 0) {
    issue(['charts'], 'the static profile has no Helm controller to install charts: render the chart on your computer (`helm template NAME CHART -f values.yaml > app.yaml`) and list the file under `manifests:`, or use `distribution: k3s`');
  }
  if (kubernetes.build.length > 0) {
    issue(['kubernetes', 'build'], 'needs docker on the Pi, and the static profile installs only containerd: build the image on your computer, push it to a registry and list it under `images:`');
  }
  if (kubernetes.disable.length > 0) {
    issue(['kubernetes', 'disable'], 'names k3s components, and the static profile has none of them: remove it (the static profile installs only kube-proxy and CoreDNS as addons)');
  }
}
