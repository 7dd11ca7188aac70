import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ToolError } from '../errors.ts';
import { runTool } from './run.ts';
import { readSourceDateEpoch } from '../source-date-epoch.ts';
import { makeTempFolder, removeTempFolder } from '../temp-folder.ts';

// An ext4 filesystem inside an image file, addressed through libext2fs's `?offset=` io option.
export interface ExtVolume {
  image: string;
  offset: number;
}

export type ExtType = 'regular' | 'directory' | 'symlink' | 'other';

export interface ExtInode {
  type: ExtType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  // Modification time, seconds since the epoch.
  mtime?: number;
  linkTarget?: string;
}

// libext2fs stamps new inodes and the superblock with this clock; SOURCE_DATE_EPOCH makes builds reproducible.
export function extEnvironment(): Record<string, string> {
  const epoch = readSourceDateEpoch();
  return epoch === undefined ? { DEBUGFS_PAGER: '__none__' } : { E2FSPROGS_FAKE_TIME: String(epoch), DEBUGFS_PAGER: '__none__' };
}

export function extSpec(volume: ExtVolume): string {
  return volume.offset === 0 ? volume.image : `${volume.image}?offset=${volume.offset}`;
}

// debugfs arguments are split on spaces unless double-quoted; the recipe check forbids quotes and newlines in paths.
export function quote(path: string): string {
  return `"${path}"`;
}

// Runs a batch of debugfs requests in one process and splits stdout per request.
// debugfs exits 0 even when a request fails, so every stderr line but its banner is treated as a failure.
export async function runDebugfs(volume: ExtVolume, requests: readonly string[], options: { write: boolean }): Promise<string[]> {
  const dir = await makeTempFolder(tmpdir(), 'pikube-debugfs-');
  try {
    const script = join(dir, 'requests');
    await writeFile(script, `${requests.join('\n')}\n`);
    const args = [...(options.write ? ['-w'] : []), '-f', script, extSpec(volume)];
    const result = await runTool('debugfs', args, { env: extEnvironment() });
    const problems = result.stderr.split('\n').filter((line) => line.trim() && !/^debugfs \d/.test(line));
    if (options.write && problems.length > 0) {
      throw new ToolError({ command: `debugfs ${args.join(' ')}`, exitCode: result.exitCode, stderr: problems.join('\n'),
        message: `debugfs could not apply every change to ${extSpec(volume)}:\n  ${problems.slice(0, 10).join('\n  ')}` });
    }
    return splitSections(result.stdout, requests.length);
  } finally {
    await removeTempFolder(dir);
  }
}

function splitSections(stdout: string, count: number): string[] {
  const sections: string[] = [];
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('debugfs: ')) {
      if (current) sections.push(current.join('\n'));
      current = [];
    } else if (current) {
      current.push(line);
    }
  }
  if (current) sections.push(current.join('\n'));
  while (sections.length < count) sections.push('');
  return sections;
}

// Looks up many paths in one read-only run; a path that does not exist maps to undefined.
export async function statExtPaths(volume: ExtVolume, paths: readonly string[]): Promise<Map<string, ExtInode | undefined>> {
  const found = new Map<string, ExtInode | undefined>();
  if (paths.length === 0) return found;
  const sections = await runDebugfs(volume, paths.map((p) => `stat ${quote(p)}`), { write: false });
  paths.forEach((path, i) => found.set(path, parseStat(sections[i] ?? '')));
  return found;
}

function parseStat(text: string): ExtInode | undefined {
  const head = /Type: (\w+)\s+Mode:\s+(\d+)/.exec(text);
  if (!head) return undefined;
  const owner = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(text);
  const size = /Size: (\d+)/.exec(text);
  const kind = head[1];
  const type: ExtType = kind === 'regular' ? 'regular' : kind === 'directory' ? 'directory' : kind === 'symlink' ? 'symlink' : 'other';
  const link = /Fast link dest: "(.*)"/.exec(text)?.[1];
  const mtime = /\bmtime: 0x([0-9a-f]+)/.exec(text)?.[1];
  return {
    type,
    mode: Number.parseInt(head[2] ?? '0', 8),
    uid: Number(owner?.[1] ?? 0),
    gid: Number(owner?.[2] ?? 0),
    size: Number(size?.[1] ?? 0),
    ...(mtime === undefined ? {} : { mtime: Number.parseInt(mtime, 16) }),
    ...(link === undefined ? {} : { linkTarget: link }),
  };
}

// Copies one file out of the filesystem to the host (binary-safe), or reports that it is not there.
export async function dumpExtFile(volume: ExtVolume, path: string, destination: string): Promise<boolean> {
  const result = await runTool('debugfs', ['-R', `dump ${quote(path)} ${quote(destination)}`, extSpec(volume)], { env: extEnvironment() });
  return !/not found|File not found/i.test(result.stderr);
}

// Reads a small text file (os-release, passwd); undefined when it is absent.
export async function readExtText(volume: ExtVolume, path: string): Promise<string | undefined> {
  const result = await runTool('debugfs', ['-R', `cat ${quote(path)}`, extSpec(volume)], { env: extEnvironment() });
  if (/File not found|not found by ext2_lookup/.test(result.stderr)) return undefined;
  return result.stdout;
}
