import { chmod, copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { UserError } from '../errors.ts';

interface Named {
  name: string;
  [key: string]: unknown;
}

interface KubeconfigFile {
  clusters?: Named[];
  users?: Named[];
  contexts?: Array<Named & { context?: Record<string, unknown> }>;
  'current-context'?: string;
  [key: string]: unknown;
}

export interface MergedKubeconfig {
  path: string;
  context: string;
  // The copy of the file as it was before the merge, when there was one.
  backup?: string;
}

// Where kubectl reads its configuration: the first file of $KUBECONFIG, else ~/.kube/config.
export function findKubeconfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.KUBECONFIG ?? '').split(delimiter).find((part) => part !== '');
  return first ?? join(homedir(), '.kube', 'config');
}

// Merges a built cluster's kubeconfig into the user's, as `k3sup install --merge --context NAME` does: its cluster,
// user and context are renamed after `context` (replacing entries of that name from an earlier build), every other
// entry is kept as it was, the file is copied to FILE.pikube-backup-TIME first and written whole (0600) by rename,
// and the new context becomes the current one.
export async function mergeKubeconfig(source: string, context: string, target = findKubeconfigPath(), now = new Date()): Promise<MergedKubeconfig> {
  const incoming = parse(await readFile(source, 'utf8')) as KubeconfigFile;
  const cluster = incoming.clusters?.[0];
  const user = incoming.users?.[0];
  if (!cluster || !user) throw new UserError(`${source} holds no cluster or user to merge`, 'build the cluster again with `pikube build`');
  const existingText = await readFile(target, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new UserError(`cannot read ${target} (${error.message})`, 'check the file, or point $KUBECONFIG at another one');
  });
  let existing: KubeconfigFile = { apiVersion: 'v1', kind: 'Config', preferences: {} };
  if (existingText !== undefined && existingText.trim() !== '') {
    try {
      existing = (parse(existingText) as KubeconfigFile | null) ?? existing;
    } catch (error) {
      throw new UserError(`${target} is not valid YAML (${(error as Error).message.split('\n')[0]}), so pikube leaves it alone`, 'fix the file, or merge by hand: KUBECONFIG=CLUSTER.kubeconfig:~/.kube/config kubectl config view --flatten', { cause: error });
    }
  }
  const userName = `${context}-admin`;
  const replace = <T extends Named>(list: T[] | undefined, entry: T): T[] => [...(list ?? []).filter((item) => item.name !== entry.name), entry];
  const merged: KubeconfigFile = {
    ...existing,
    apiVersion: existing.apiVersion ?? 'v1',
    kind: existing.kind ?? 'Config',
    clusters: replace(existing.clusters, { ...cluster, name: context }),
    users: replace(existing.users, { ...user, name: userName }),
    contexts: replace(existing.contexts, { name: context, context: { cluster: context, user: userName } }),
    'current-context': context,
  };
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  let backup: string | undefined;
  if (existingText !== undefined) {
    backup = `${target}.pikube-backup-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
    await copyFile(target, backup);
    await chmod(backup, 0o600);
  }
  const temp = `${target}.pikube-${process.pid}.tmp`;
  try {
    await writeFile(temp, stringify(merged), { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, target);
  } finally {
    await rm(temp, { force: true });
  }
  return { path: target, context, ...(backup ? { backup } : {}) };
}
