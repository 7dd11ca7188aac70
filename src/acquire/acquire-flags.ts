import type { Command } from 'commander';
import { runSignal } from '../interrupt.ts';
import type { AcquireOptions } from './acquire-options.ts';
import { resolveCacheDir } from './cache-dir.ts';

// The command-line flags every command that downloads shares.
export interface AcquireFlags {
  cache?: string;
  mirror?: string;
  offline?: boolean;
  allowHttp?: boolean;
}

// Adds --cache, --mirror, --offline and --allow-http to a command (build, and later commands that fetch).
export function addAcquireFlags(command: Command): Command {
  return command
    .option('--cache <dir>', 'download cache (default: $PIKUBE_CACHE, the checkout\'s cache/, or ~/.cache/pikube)')
    .option('--mirror <url>', 'fetch https://HOST/PATH from <url>/HOST/PATH instead (overrides the recipe\'s mirror)')
    .option('--offline', 'use only what is already in the cache; fail naming anything missing')
    .option('--allow-http', 'allow plain http to hosts other than 127.0.0.1/localhost');
}

// The flags `build` and `plan` share: which recipe, which base, and how to download what they need.
export function addRecipeFlags(command: Command): Command {
  return addAcquireFlags(command
    .option('-c, --config <file>', 'the recipe', 'pikube.yaml')
    .option('--base <path>', 'use this base (path, catalog name or URL) instead of the recipe\'s')
    .option('--registry-mirror <url>', 'pull HOST/REPO:TAG from <url>/HOST/REPO:TAG (overrides the recipe\'s registryMirror)'));
}

// Flags (which win) and the recipe's `mirror:` turned into the options fetchArtifact and acquireBase take.
export function acquireOptionsFromFlags(flags: AcquireFlags, recipe: { mirror?: string } = {}): AcquireOptions {
  return {
    cacheDir: resolveCacheDir(flags.cache),
    mirror: flags.mirror ?? recipe.mirror,
    offline: flags.offline ?? false,
    allowHttp: flags.allowHttp ?? false,
    signal: runSignal,
  };
}
