import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { acquireBase, resolveBase } from '../acquire/acquire-base.ts';
import { acquireOptionsFromFlags, type AcquireFlags } from '../acquire/acquire-flags.ts';
import { readRecipeInputs } from '../acquire/local-inputs.ts';
import { detectImageFormat } from '../acquire/image-format.ts';
import { unpackImage } from '../acquire/unpack-image.ts';
import type { LoadedRecipe } from '../config/load-recipe.ts';
import { readLayout } from '../image/read-facts.ts';
import { checkOutputsAvoidInputs, type NamedPath } from '../same-file.ts';
import { readBuildClock } from '../gather/build-clock.ts';
import type { BuildSession } from '../gather/build-session.ts';

export interface BuildFlags extends AcquireFlags {
  config: string;
  // --base, relative to the working directory; overrides the recipe's base.
  base?: string;
  registryMirror?: string;
}

// config -> acquire: with the recipe read and checked, the base found in the cache, downloaded and verified, or hashed.
export async function loadBuild(flags: BuildFlags, loaded: LoadedRecipe): Promise<BuildSession> {
  const { recipe } = loaded;
  const acquire = { ...acquireOptionsFromFlags(flags, recipe), ...(flags.registryMirror ?? recipe.registryMirror ? { registryMirror: flags.registryMirror ?? recipe.registryMirror } : {}) };
  const spec = typeof recipe.base === 'string' ? { source: recipe.base } : recipe.base;
  const baseName = flags.base ?? spec.source;
  const baseSpec = { ...(flags.base ? {} : { sha256: spec.sha256, entry: spec.entry }), baseDir: flags.base ? process.cwd() : loaded.directory };
  const resolved = resolveBase(baseName, baseSpec);
  const base = acquireBase(baseName, baseSpec, acquire);
  // Handled here so a failure while nobody awaits it yet is not an unhandled rejection; awaiting it still throws.
  base.catch(() => undefined);
  // A download must finish before unpacking; a local file that is missing is reported before anything starts.
  if (resolved.kind !== 'path' || !(await stat(resolved.path).catch(() => undefined))?.isFile()) await base;
  const archivePath = resolved.kind === 'path' ? resolved.path : (await base).archivePath;
  const inputs = readRecipeInputs(recipe, loaded.directory);
  inputs.catch(() => undefined);
  return { loaded, acquire, archivePath, inputs, ...(resolved.entry ? { entry: resolved.entry } : {}), base, baseName, clock: readBuildClock() };
}

// Every file and folder a build reads: the recipe, the base, the overlay, `files[].source` and build contexts.
export function listBuildInputs(session: BuildSession): NamedPath[] {
  const { recipe, directory, path } = session.loaded;
  return [
    { path, role: 'the recipe' },
    { path: session.archivePath, role: 'the base image' },
    ...(recipe.overlay ? [{ path: resolve(directory, recipe.overlay), role: 'the overlay folder' }] : []),
    ...recipe.files.flatMap((file, i) => (file.source === undefined ? [] : [{ path: resolve(directory, file.source), role: `files[${i}].source` }])),
    ...(recipe.kubernetes?.build ?? []).map((image, i) => ({ path: resolve(directory, image.context), role: `kubernetes.build[${i}].context` })),
  ];
}

// Refuses outputs that would replace or land inside what the build reads, before anything is written.
export async function checkBuildOutputs(session: BuildSession, outputs: readonly NamedPath[]): Promise<void> {
  await checkOutputsAvoidInputs(listBuildInputs(session), outputs);
}

// Unpacks the session's base into `dest` (a sparse file) while the base is still being verified; settles once both
// are done, so nothing is planned from a base that turns out not to match its checksum. A plain image is checked
// for its Raspberry Pi shape before it is copied, so a wrong file is named as the user gave it.
export async function unpackBase(session: BuildSession, dest: string, signal: AbortSignal): Promise<void> {
  if ((await detectImageFormat(session.archivePath).catch(() => undefined)) === 'raw') await readLayout(session.archivePath);
  await Promise.all([unpackImage(session.archivePath, dest, { ...(session.entry ? { entry: session.entry } : {}), signal }), session.base]);
}
