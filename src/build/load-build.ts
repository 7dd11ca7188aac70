import type { AcquireOptions } from '../acquire/acquire-options.ts';
import { acquireBase, type AcquiredBase } from '../acquire/acquire-base.ts';
import { acquireOptionsFromFlags, type AcquireFlags } from '../acquire/acquire-flags.ts';
import { loadRecipe, type LoadedRecipe } from '../config/load-recipe.ts';
import { readBuildClock, type BuildClock } from './build-clock.ts';

export interface BuildFlags extends AcquireFlags {
  config: string;
  // --base, relative to the working directory; overrides the recipe's base.
  base?: string;
  registryMirror?: string;
}

export interface BuildSession {
  loaded: LoadedRecipe;
  acquire: AcquireOptions & { registryMirror?: string };
  base: AcquiredBase;
  baseName: string;
  clock: BuildClock;
}

// config -> acquire: the recipe read and checked, the base found in the cache, downloaded and verified, or hashed.
export async function loadBuild(flags: BuildFlags): Promise<BuildSession> {
  const loaded = await loadRecipe(flags.config);
  const { recipe } = loaded;
  const acquire = { ...acquireOptionsFromFlags(flags, recipe), ...(flags.registryMirror ?? recipe.registryMirror ? { registryMirror: flags.registryMirror ?? recipe.registryMirror } : {}) };
  const spec = typeof recipe.base === 'string' ? { source: recipe.base } : recipe.base;
  const baseName = flags.base ?? spec.source;
  const base = await acquireBase(baseName, {
    ...(flags.base ? {} : { sha256: spec.sha256, entry: spec.entry }),
    baseDir: flags.base ? process.cwd() : loaded.directory,
  }, acquire);
  return { loaded, acquire, base, baseName, clock: readBuildClock() };
}
