import { resolve } from 'node:path';
import type { AcquireOptions } from '../acquire/acquire-options.ts';
import type { AcquiredBase } from '../acquire/acquire-base.ts';
import type { RecipeInputs } from '../acquire/local-inputs.ts';
import type { LoadedRecipe } from '../config/load-recipe.ts';
import type { BuildClock } from './build-clock.ts';

// One build's recipe, acquire options, base (being verified) and local inputs (being read): what every gathering
// step of the build reads, made by the pipeline's loadBuild.
export interface BuildSession {
  loaded: LoadedRecipe;
  acquire: AcquireOptions & { registryMirror?: string };
  // The file to unpack (a cached download or the local image) and, for a zip, the entry to use.
  archivePath: string;
  entry?: string;
  // Settles once the base is verified: a local base is hashed while it is being unpacked, not before.
  base: Promise<AcquiredBase>;
  // The recipe's local files, read and hashed meanwhile.
  inputs: Promise<RecipeInputs>;
  baseName: string;
  clock: BuildClock;
}

// How the base is named in messages: the user's own words, never the temporary copy being edited.
export function describeBase(session: BuildSession): string {
  const entry = session.entry ? ` (entry ${session.entry})` : '';
  const cached = session.archivePath.startsWith(resolve(session.acquire.cacheDir));
  return cached ? `${session.baseName}${entry} (cached as ${session.archivePath})` : `${session.archivePath}${entry}`;
}
