import { lstat, readdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join, posix, resolve } from 'node:path';
import type { AcquireOptions } from '../acquire/acquire-options.ts';
import { readLocalFile } from '../acquire/local-inputs.ts';
import type { Recipe } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { checkManifest } from '../kube/apps/check-manifest.ts';
import { makeHelmChart } from '../kube/apps/helm-chart.ts';
import type { AppChart, AppManifest, AppsBundle } from '../kube/apps/plan-apps.ts';
import { fetchChart } from './fetch-chart.ts';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

// Reads and checks `manifests:` (files, or folders walked in name order for .yaml/.yml/.json) and fetches and
// checks `charts:`, so a bad app fails the build on the host, naming its file and field, not the Pi at first boot.
export async function gatherApps(recipe: Recipe, recipeDir: string, workDir: string, options: AcquireOptions): Promise<AppsBundle> {
  const manifests: AppManifest[] = [];
  for (const [i, listed] of recipe.manifests.entries()) {
    for (const source of await listManifestFiles(resolve(recipeDir, listed), listed, `manifests[${i}]`)) {
      const file = await readLocalFile(resolve(recipeDir, source), `manifests[${i}]`);
      manifests.push({ source, file, objects: await checkManifest(await readFile(file.hostPath, 'utf8'), source) });
    }
  }
  const charts: AppChart[] = [];
  for (const [i, ref] of recipe.charts.entries()) {
    const chart = await fetchChart(ref, `charts[${i}]`, recipeDir, options);
    if (charts.some((other) => other.name === chart.name)) {
      throw new UserError(`charts[${i}]: ${chart.name} is listed twice`, 'each chart is one Helm release named after the chart: list it once');
    }
    const path = join(workDir, `helmchart-${chart.name}.yaml`);
    await writeFile(path, makeHelmChart(chart, await readFile(chart.tarball.hostPath)), { mode: 0o600 });
    charts.push({ ...chart, resource: await readLocalFile(path, `charts[${i}]`) });
  }
  return { manifests, charts };
}

async function listManifestFiles(path: string, listed: string, where: string): Promise<string[]> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) throw new UserError(`${where}: ${listed} does not exist`, 'paths in the recipe are relative to the recipe file');
  if (info.isFile()) return [listed];
  if (!info.isDirectory()) throw new UserError(`${where}: ${listed} is not a file or folder`, 'list Kubernetes YAML files, or folders of them');
  const found: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    for (const name of (await readdir(join(path, relative))).sort()) {
      const child = posix.join(relative, name);
      const stats = await lstat(join(path, child));
      if (stats.isDirectory()) await walk(child);
      else if (stats.isFile() && MANIFEST_EXTENSIONS.has(extname(name))) found.push(posix.join(listed, child));
    }
  };
  await walk('');
  if (found.length === 0) throw new UserError(`${where}: ${listed} holds no .yaml, .yml or .json file`, 'put the Kubernetes YAML files in that folder, or remove it from `manifests:`');
  return found;
}
