import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import type { AcquireOptions } from '../acquire/acquire-options.ts';
import { commitBlob, findBlob, partialPath, readIndexRecord, writeIndexRecord } from '../acquire/cache-store.ts';
import { fetchArtifact } from '../acquire/fetch-artifact.ts';
import { downloadText } from '../acquire/http-download.ts';
import { readLocalFile, type LocalFile } from '../acquire/local-inputs.ts';
import { applyMirror } from '../acquire/url-policy.ts';
import type { Recipe } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import type { FetchedChart } from '../kube/apps/plan-apps.ts';
import { listArchive, readArchiveMember } from '../tools/tar.ts';

type ChartRef = Recipe['charts'][number];

// A chart from the recipe, fetched into the download cache and checked: a repository chart's tarball must match
// the digest its repository's index.yaml gives for that name and version (or the recipe's sha256), and the
// Chart.yaml inside any tarball must name the chart and version the recipe asks for.
export async function fetchChart(ref: ChartRef, where: string, recipeDir: string, options: AcquireOptions): Promise<FetchedChart> {
  let tarball: LocalFile;
  let source: string;
  if (ref.repo !== undefined) {
    const { url, digest } = await findInIndex(ref.repo, ref.name!, ref.version!, ref.sha256, where, options);
    const fetched = await fetchArtifact(url, { sha256: digest }, options);
    tarball = { hostPath: fetched.path, size: fetched.size, mode: 0o644, sha256: fetched.sha256 };
    source = url;
  } else {
    tarball = await readLocalFile(resolve(recipeDir, ref.chart!), `${where}.chart`);
    if (ref.sha256 && ref.sha256.replace(/^sha256:/, '') !== tarball.sha256) {
      throw new UserError(`${where}: ${ref.chart} has sha256 ${tarball.sha256}, not the ${ref.sha256} the recipe gives`, 'point chart at the file you meant, or update sha256');
    }
    source = ref.chart!;
  }
  const meta = await readChartMeta(tarball.hostPath, where, options.signal);
  if ((ref.name !== undefined && meta.name !== ref.name) || (ref.version !== undefined && meta.version !== ref.version)) {
    throw new UserError(`${where}: the tarball's Chart.yaml names ${meta.name} ${meta.version}, not ${ref.name ?? meta.name} ${ref.version ?? meta.version}`,
      'the repository or file serves another chart than its index says: check the name and version, or the repository');
  }
  return { name: meta.name, version: meta.version, namespace: ref.namespace, values: ref.values, tarball, source };
}

// The chart's URL and digest from the repository's index.yaml (Helm's repository format); the index is kept in the
// cache so --offline builds still find the chart.
async function findInIndex(repo: string, name: string, version: string, pinned: string | undefined, where: string, options: AcquireOptions): Promise<{ url: string; digest: string }> {
  const base = repo.endsWith('/') ? repo : `${repo}/`;
  const indexUrl = new URL('index.yaml', base).toString();
  const text = await readIndex(indexUrl, options);
  let index: { entries?: Record<string, Array<{ version?: string; digest?: string; urls?: string[] }>> };
  try {
    index = parse(text) as typeof index;
  } catch (error) {
    throw new UserError(`${where}: ${indexUrl} is not a Helm repository index (${(error as Error).message.split('\n')[0]})`, 'check the repo URL: it is the folder that holds index.yaml', { cause: error });
  }
  const versions = index?.entries?.[name];
  if (!versions) throw new UserError(`${where}: ${indexUrl} has no chart named ${name}`, 'check the chart name (helm search repo shows what a repository holds)');
  const entry = versions.find((candidate) => candidate.version === version);
  if (!entry) {
    throw new UserError(`${where}: ${name} has no version ${version} in ${indexUrl}`, `choose one it has: ${versions.slice(0, 5).map((v) => v.version).join(', ')}`);
  }
  const chartUrl = entry.urls?.[0];
  if (!chartUrl) throw new UserError(`${where}: ${indexUrl} lists ${name} ${version} without a URL`, 'the repository index is incomplete: ask its maintainer, or use a local .tgz with `chart:`');
  const digest = pinned?.replace(/^sha256:/, '') ?? entry.digest;
  if (!digest || !/^[0-9a-f]{64}$/.test(digest)) {
    throw new UserError(`${where}: ${indexUrl} gives no sha256 digest for ${name} ${version}`, 'give the tarball\'s sha256 beside the chart in the recipe');
  }
  if (pinned && entry.digest && entry.digest !== digest) {
    throw new UserError(`${where}: ${indexUrl} gives ${name} ${version} the digest ${entry.digest}, not the recipe's ${digest}`, 'the chart was republished or the recipe\'s sha256 is wrong: check which one you trust');
  }
  return { url: new URL(chartUrl, base).toString(), digest };
}

async function readIndex(indexUrl: string, options: AcquireOptions): Promise<string> {
  if (options.offline) {
    const record = await readIndexRecord(options.cacheDir, indexUrl);
    const blob = record ? await findBlob(options.cacheDir, record.sha256) : undefined;
    if (!blob) {
      throw new UserError(`offline, and the cache (${options.cacheDir}) does not hold ${indexUrl}`, 'run the same command once with network access (or a --mirror) to fill the cache, then use --offline');
    }
    return readFile(blob.path, 'utf8');
  }
  const text = await downloadText(applyMirror(indexUrl, options.mirror), { cacheDir: options.cacheDir, allowHttp: options.allowHttp, signal: options.signal, timeoutMs: options.timeoutMs, retries: options.retries, retryDelayMs: options.retryDelayMs });
  const sha256 = createHash('sha256').update(text).digest('hex');
  const part = partialPath(options.cacheDir, indexUrl);
  await mkdir(dirname(part), { recursive: true });
  await writeFile(part, text);
  await commitBlob(options.cacheDir, part, sha256);
  await writeIndexRecord(options.cacheDir, { url: indexUrl, sha256, size: Buffer.byteLength(text), fetchedAt: new Date().toISOString() });
  return text;
}

// Chart.yaml of a packaged chart (CHARTNAME/Chart.yaml at the top of the .tgz), read with tar.
async function readChartMeta(tarball: string, where: string, signal?: AbortSignal): Promise<{ name: string; version: string }> {
  const listing = await listArchive(tarball, signal).catch((error: unknown) => {
    throw new UserError(`${where}: ${tarball} is not a gzip-compressed tar (a packaged Helm chart)`, 'package the chart with `helm package DIR`', { cause: error });
  });
  const member = listing.find((line) => /^[^/]+\/Chart\.yaml$/.test(line));
  if (!member) throw new UserError(`${where}: the tarball holds no CHARTNAME/Chart.yaml`, 'package the chart with `helm package DIR`');
  const text = await readArchiveMember(tarball, member, signal);
  const meta = parse(text) as { name?: unknown; version?: unknown } | null;
  if (typeof meta?.name !== 'string' || typeof meta.version !== 'string') {
    throw new UserError(`${where}: ${member} has no name or version`, 'a Chart.yaml needs both (see helm.sh/docs/topics/charts)');
  }
  return { name: meta.name, version: meta.version };
}
