import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveCacheDir } from '../acquire/cache-dir.ts';
import { UserError } from '../errors.ts';
import { runSignal } from '../interrupt.ts';
import { log } from '../log.ts';
import { parsePlatform } from '../registry/platform.ts';
import { formatBytes } from '../format-bytes.ts';
import { pullToTarball } from '../registry/pull-to-tarball.ts';
import { COMMAND_SUMMARIES } from './command-table.ts';

interface PullCommandOptions {
  platform: string;
  output: string;
  cache?: string;
  registryMirror?: string;
  offline?: boolean;
}

// `pikube pull`: one image for the Pi's platform, from any registry, into a tarball ctr, k3s and docker load accept.
export function registerPullCommand(program: Command): void {
  program
    .command('pull')
    .description(COMMAND_SUMMARIES['pull'])
    .argument('<ref>', 'the image, e.g. registry.k8s.io/pause:3.10 or docker.io/library/alpine:3.20')
    .requiredOption('--platform <platform>', 'linux/arm64, linux/arm/v7 or linux/arm/v6')
    .requiredOption('-o, --output <file>', 'the tarball to write')
    .option('--cache <dir>', 'download cache (default: $PIKUBE_CACHE, the checkout\'s cache/, or ~/.cache/pikube)')
    .option('--registry-mirror <url>', 'pull HOST/REPO:TAG as URL/HOST/REPO:TAG')
    .option('--offline', 'use only the cache; fail if the image was never pulled')
    .action(async (ref: string, options: PullCommandOptions) => {
      const output = resolve(options.output);
      const outputDir = await stat(dirname(output)).catch(() => undefined);
      if (!outputDir?.isDirectory()) throw new UserError(`the directory ${dirname(output)} does not exist`, 'create it first, or choose another -o FILE.tar');
      const { written } = await pullToTarball(ref, output, {
        platform: parsePlatform(options.platform),
        cacheDir: resolveCacheDir(options.cache),
        ...(options.registryMirror ? { registryMirror: options.registryMirror } : {}),
        offline: Boolean(options.offline),
        signal: runSignal,
      });
      log.info(`wrote ${written.path} (${formatBytes(written.size)})`);
      process.stdout.write(`${written.path}\n`);
    });
}
