import { ToolError, UserError } from '../errors.ts';
import { runTool } from './run.ts';
import { readSourceDateEpoch } from '../source-date-epoch.ts';

// mtools addresses a FAT filesystem inside an image as FILE@@BYTEOFFSET; no mount, no root.
export interface FatVolume {
  image: string;
  offset: number;
}

export interface FatListing {
  directories: Set<string>;
  files: Set<string>;
}

function target(volume: FatVolume): string {
  return `${volume.image}@@${volume.offset}`;
}

function environment(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { MTOOLS_SKIP_CHECK: '1', ...extra };
  const epoch = readSourceDateEpoch();
  if (epoch !== undefined) env.SOURCE_DATE_EPOCH = String(epoch);
  return env;
}

// Lists every path on the volume once (lower-cased: FAT names are case-insensitive), so writers know what exists.
export async function listFat(volume: FatVolume): Promise<FatListing> {
  const result = await runTool('mdir', ['-/', '-b', '-a', '-i', target(volume), '::/'], { env: environment(), okExitCodes: [1] });
  const directories = new Set<string>(['/']);
  const files = new Set<string>();
  for (const line of result.stdout.split('\n')) {
    const entry = line.trim();
    if (!entry.startsWith('::/')) continue;
    const path = entry.slice(2).toLowerCase();
    if (path.endsWith('/')) directories.add(path.replace(/\/+$/, '') || '/');
    else files.add(path);
  }
  return { directories, files };
}

// Creates directories, parents first; mmd fails on an existing one, so callers pass only missing paths.
export async function makeFatDirectories(volume: FatVolume, paths: readonly string[]): Promise<void> {
  if (paths.length === 0) return;
  await runTool('mmd', ['-i', target(volume), ...paths.map((p) => `::${p}`)], { env: environment() });
}

// Copies a host file in, replacing any file of the same name.
export async function copyToFat(volume: FatVolume, source: string, destination: string): Promise<void> {
  await runTool('mcopy', ['-o', '-i', target(volume), source, `::${destination}`], { env: environment() });
}

// Reads a small text file (cmdline.txt, user-data) from the volume; undefined when it is absent.
export async function readFatFile(volume: FatVolume, path: string): Promise<string | undefined> {
  const result = await runTool('mtype', ['-i', target(volume), `::${path}`], { env: environment(), okExitCodes: [1] });
  return result.exitCode === 0 ? result.stdout : undefined;
}

export interface FatInfo {
  label: string;
  freeBytes: number;
  type: string;
}

// Label, FAT type and free bytes for `inspect` and for the fit check of the boot partition.
export async function readFatInfo(volume: FatVolume): Promise<FatInfo> {
  const info = await runTool('minfo', ['-i', target(volume), '::'], { env: environment() }).catch((error: unknown) => {
    // mtools refusing the boot sector ("init :: non DOS media", "Could not open drive") is the image's damage.
    if (error instanceof ToolError && /init :: |Could not open drive/.test(error.stderr)) {
      throw new UserError(`the FAT boot partition at byte ${volume.offset} of ${volume.image} is damaged: minfo says "${error.stderr.split('\n')[0]?.trim()}"`,
        'the image is corrupt: download or decompress it again (or write it again from its source)');
    }
    throw error;
  });
  const dir = await runTool('mdir', ['-i', target(volume), '::/'], { env: environment(), okExitCodes: [1] });
  const label = /Volume in drive : is (.*)$/m.exec(dir.stdout)?.[1]?.trim() ?? '';
  const free = /([\d ]+) bytes free/.exec(dir.stdout)?.[1]?.replace(/ /g, '') ?? '0';
  const type = /disk type="(FAT\d+)/.exec(info.stdout)?.[1] ?? 'FAT';
  return { label, freeBytes: Number(free), type };
}

// Copies one file out of the volume to the host (binary-safe); false when it is not there.
export async function copyFromFat(volume: FatVolume, path: string, destination: string): Promise<boolean> {
  const result = await runTool('mcopy', ['-n', '-o', '-i', target(volume), `::${path}`, destination], { env: environment(), okExitCodes: [1] });
  return result.exitCode === 0;
}
