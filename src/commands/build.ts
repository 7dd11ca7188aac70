import { basename, extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../errors.ts';
import { preparePlan } from '../build/prepare-plan.ts';
import type { ExtBackend } from '../image/backend.ts';
import { buildImage } from '../image/build-image.ts';
import { debugfsBackend } from '../image/debugfs-backend.ts';
import { mountBackend } from '../image/mount-backend.ts';
import { runSignal } from '../interrupt.ts';
import { log } from '../log.ts';
import { ensureTools } from '../tools/check-tools.ts';
import { copySparse } from '../tools/cp.ts';

export interface BuildOptions {
  config: string;
  output?: string;
  base?: string;
  backend: string;
}

// `pikube build`: the main job, recipe in, bootable image (plus OUTPUT.sha256) out.
export function registerBuildCommand(program: Command): void {
  program
    .command('build')
    .description('build an image from the recipe: the base with every planned file written into its partitions')
    .option('-c, --config <file>', 'the recipe', 'pikube.yaml')
    .option('-o, --output <file>', 'the image to write (default: the recipe name with .img)')
    .option('--base <path>', 'use this base image instead of the recipe\'s')
    .option('--backend <name>', 'how ext4 is edited: debugfs (no root) or mount (root, kernel driver)', 'debugfs')
    .action(async (options: BuildOptions) => {
      const backend = pickBackend(options.backend);
      await ensureTools('build', { include: backend.name === 'mount' ? ['losetup', 'mount', 'umount'] : [] });
      const prepared = await preparePlan(options);
      const output = resolve(options.output ?? `${basename(options.config, extname(options.config))}.img`);
      if (output === prepared.basePath) throw new UserError('the output is the base image itself', 'choose another -o FILE: pikube never edits its base in place');
      const built = await buildImage(prepared.plan, {
        output,
        backend,
        signal: runSignal,
        writeBase: (destination) => copySparse(prepared.basePath, destination, runSignal),
      });
      log.info(`built ${built.path} (${(built.size / 2 ** 20).toFixed(0)} MiB, sha256 ${built.sha256})`);
      process.stdout.write(`${built.path}\n`);
    });
}

function pickBackend(name: string): ExtBackend {
  if (name === 'debugfs') return debugfsBackend;
  if (name === 'mount') return mountBackend;
  throw new UserError(`unknown backend "${name}"`, 'use --backend debugfs (default, no root) or --backend mount (root)');
}
