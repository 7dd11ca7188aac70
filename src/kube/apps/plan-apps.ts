import { extname } from 'node:path';
import type { LocalFile } from '../../acquire/local-inputs.ts';
import { makeFileEntry, makeHostContent } from '../../plan/entries.ts';
import type { BuildInput, PlanEntry } from '../../plan/types.ts';
import { safeName } from '../k3s/plan-k3s.ts';
import type { ManifestObject } from './check-manifest.ts';

// A chart from the recipe, fetched and checked on the host.
export interface FetchedChart {
  name: string;
  version: string;
  namespace: string;
  values: Record<string, unknown>;
  tarball: LocalFile;
  // Where it came from, for the build record: the chart's URL, or the local path as the recipe gives it.
  source: string;
}

export interface AppManifest {
  // The file as the recipe names it (a folder's files as FOLDER/NAME).
  source: string;
  file: LocalFile;
  objects: ManifestObject[];
}

export interface AppChart extends FetchedChart {
  // The HelmChart resource for k3s's helm-controller, the tarball inside it, written to a file in the work folder.
  resource: LocalFile;
}

// The apps a server installs at first boot, read, validated and fetched on the host.
export interface AppsBundle {
  manifests: AppManifest[];
  charts: AppChart[];
}

// k3s applies every .yaml/.json here at start and whenever one changes (its deploy controller), HelmChart included.
export const K3S_MANIFEST_DIR = '/var/lib/rancher/k3s/server/manifests';
// The static profile's first boot applies this folder (kubectl apply -R) once the control plane and addons are up.
export const STATIC_APPS_DIR = '/etc/kubernetes/apps';

// Where a server's apps go: k3s's auto-deploy folder (manifests and HelmChart resources), or the static profile's
// apps folder (manifests only: it has no Helm controller). Files are named in recipe order, 0600 (they may hold
// Secrets).
export function planApps(apps: AppsBundle, profile: 'k3s' | 'static'): PlanEntry[] {
  const dir = profile === 'k3s' ? K3S_MANIFEST_DIR : STATIC_APPS_DIR;
  const prefix = profile === 'k3s' ? 'pikube-' : '';
  const width = String(apps.manifests.length).length;
  return [
    ...apps.manifests.map((manifest, i) => {
      const extension = extname(manifest.source);
      const stem = safeName(manifest.source.slice(0, manifest.source.length - extension.length)).replace(/^[._]+/, '');
      const objects = manifest.objects.map((object) => `${object.kind} ${object.name}`).join(', ');
      return makeFileEntry('root', `${dir}/${prefix}${String(i + 1).padStart(width, '0')}-${stem}${extension}`, makeHostContent(manifest.file), 0o600, `manifests: ${manifest.source} (${objects})`);
    }),
    ...apps.charts.map((chart) => makeFileEntry('root', `${K3S_MANIFEST_DIR}/pikube-chart-${chart.name}.yaml`, makeHostContent(chart.resource), 0o600,
      `charts: ${chart.name} ${chart.version} into namespace ${chart.namespace} (HelmChart, chart inline)`)),
  ];
}

// The apps as build inputs: each manifest and chart tarball by its digest.
export function listAppInputs(apps: AppsBundle): BuildInput[] {
  return [
    ...apps.manifests.map((manifest) => ({ role: 'manifest', name: manifest.source, sha256: manifest.file.sha256 })),
    ...apps.charts.map((chart) => ({ role: 'chart', name: `${chart.name}-${chart.version}.tgz`, sha256: chart.tarball.sha256, ...(chart.source.includes('://') ? { url: chart.source } : {}) })),
  ];
}
