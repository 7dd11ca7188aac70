import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, constants, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.ts';
import { throwIfInterrupted } from '../interrupt.ts';
import { log } from '../log.ts';
import type { Plan } from '../plan/types.ts';
import type { ExtBackend } from './backend.ts';
import { checkImageFilesystems } from './check-image.ts';
import { growRoot } from './grow-root.ts';
import { readLayout } from './read-facts.ts';
import { stageContents } from './staging.ts';
import { writeFatEntries } from './write-fat.ts';

export interface BuildImageOptions {
  output: string;
  backend: ExtBackend;
  signal: AbortSignal;
  // Writes the uncompressed base image to the given path (a copy, or a decompression straight from the cache).
  writeBase(destination: string): Promise<void>;
}

export interface BuiltImage {
  path: string;
  sha256: string;
  size: number;
}

// Applies a plan to a fresh copy of the base, in a temporary file beside the output that is renamed into
// place only when every write has been verified and both filesystems check clean.
export async function buildImage(plan: Plan, options: BuildImageOptions): Promise<BuiltImage> {
  const outputDir = dirname(options.output);
  await access(outputDir, constants.W_OK).catch(() => {
    throw new UserError(`cannot write to ${outputDir}`, 'choose an output in a folder you can write to with -o FILE');
  });
  const temporary = join(outputDir, `.${basename(options.output)}.pikube-${process.pid}.tmp`);
  try {
    log.step('writing the base image');
    await options.writeBase(temporary);
    throwIfInterrupted(options.signal);
    let layout = await readLayout(temporary);
    if (plan.growth) {
      log.step(`growing the root partition to ${(plan.growth.toBytes / 2 ** 20).toFixed(0)} MiB (${plan.growth.reason})`);
      layout = await growRoot(temporary, plan.growth, options.backend, options.signal);
    }
    throwIfInterrupted(options.signal);
    const sector = layout.table.sectorSize;
    await using staging = await stageContents(plan.entries);
    const boot = plan.entries.filter((e) => e.partition === 'boot');
    const root = plan.entries.filter((e) => e.partition === 'root');
    log.step(`writing ${boot.length} boot entries and ${root.length} root entries (${options.backend.name} backend)`);
    await writeFatEntries({ image: temporary, offset: layout.boot.start * sector }, boot, staging.hostPathOf);
    throwIfInterrupted(options.signal);
    await options.backend.write({ image: temporary, offset: layout.root.start * sector, size: layout.root.size * sector }, root, staging.hostPathOf, options.signal);
    throwIfInterrupted(options.signal);
    log.step('checking both filesystems and hashing the image');
    const [{ sha256, size }] = await Promise.all([hashImage(temporary, options.signal), checkImageFilesystems(temporary, layout, options.signal)]);
    await writeFile(`${temporary}.sha256`, `${sha256}  ${basename(options.output)}\n`);
    await rename(temporary, options.output);
    await rename(`${temporary}.sha256`, `${options.output}.sha256`);
    return { path: options.output, sha256, size };
  } finally {
    await rm(temporary, { force: true });
    await rm(`${temporary}.sha256`, { force: true });
  }
}

// Streams the finished image through sha256 for OUTPUT.sha256.
export async function hashImage(path: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20, signal })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}
