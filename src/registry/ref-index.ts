import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatPlatform, type Platform } from './platform.ts';

// What a pull resolved REF+platform to, so --offline can find the manifest again without the registry.
export interface RefRecord {
  reference: string;
  platform: string;
  manifestDigest: string;
  manifestMediaType: string;
  manifestSize: number;
  indexDigest?: string;
  // The platform the chosen manifest is for (an arm/v6 image can serve a linux/arm/v7 request).
  imagePlatform: string;
  pulledAt: string;
}

function recordPath(cacheDir: string, reference: string, platform: Platform): string {
  const key = createHash('sha256').update(`${reference} ${formatPlatform(platform)}`).digest('hex');
  return join(cacheDir, 'image-refs', `${key}.json`);
}

// The last resolution of this reference for this platform, or undefined when it was never pulled here.
export async function readRefRecord(cacheDir: string, reference: string, platform: Platform): Promise<RefRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(recordPath(cacheDir, reference, platform), 'utf8')) as RefRecord;
    return record.reference === reference && record.platform === formatPlatform(platform) ? record : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

// Records a resolution (one small file per REF+platform, replaced atomically so concurrent pulls cannot tear it).
export async function writeRefRecord(cacheDir: string, record: RefRecord, platform: Platform): Promise<void> {
  const path = recordPath(cacheDir, record.reference, platform);
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await mkdir(join(cacheDir, 'image-refs'), { recursive: true });
  try {
    await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`);
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}
