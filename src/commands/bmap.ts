import { access } from 'node:fs/promises';
import type { Command } from 'commander';
import { detectImageFormat } from '../acquire/image-format.ts';
import { UserError } from '../errors.ts';
import { countMappedBytes } from '../flash/block-map.ts';
import { formatDriveBytes } from '../flash/flash-target.ts';
import { writeBmap } from '../flash/write-bmap.ts';
import { log } from '../log.ts';
import { ensureTools } from '../tools/check-tools.ts';
import { COMMAND_SUMMARIES } from './command-table.ts';

// `pikube bmap IMAGE`: the filesystem-aware block map `pikube build` writes, for an image made elsewhere (whose
// `bmaptool create` map follows the file's holes and so leaves out zeros the filesystems need).
export function registerBmapCommand(program: Command): void {
  program
    .command('bmap')
    .description(COMMAND_SUMMARIES.bmap)
    .argument('<image>', 'a raw disk image (.img)')
    .option('-o, --output <file>', 'where to write the map (default: IMAGE.bmap)')
    .action(async (image: string, options: { output?: string }) => {
      await access(image).catch(() => {
        throw new UserError(`image ${image} does not exist`, 'give the path of a raw .img file');
      });
      if ((await detectImageFormat(image)) !== 'raw') {
        throw new UserError(`${image} is compressed; a block map describes the raw image`, 'decompress it first (unxz, gunzip, unzip) and run pikube bmap on the .img');
      }
      await ensureTools('bmap');
      const output = options.output ?? `${image}.bmap`;
      const map = await writeBmap(image, output);
      log.step(`wrote ${output}: ${formatDriveBytes(countMappedBytes(map))} of ${formatDriveBytes(map.imageSize)} mapped`);
      process.stdout.write(`${output}\n`);
    });
}
