import type { Command } from 'commander';
import { ensureTools } from '../tools/check-tools.ts';
import { UserError } from '../errors.ts';
import { COMMAND_SUMMARIES } from './command-table.ts';

interface FlashCommandOptions {
  device?: string;
  bmap?: string | false;
  verify: boolean;
  yes?: boolean;
  allowNonRemovable?: boolean;
  powerOff: boolean;
  cluster?: string;
  from?: string;
}

// `pikube flash IMAGE` (or `--cluster DIR`, card after card): write a built (or compressed) image to an SD card, safely, and prove it was written.
export function registerFlashCommand(program: Command): void {
  program
    .command('flash')
    .description(COMMAND_SUMMARIES['flash'])
    .argument('[image]', 'the image to write: built by pikube, or a downloaded .img/.img.gz/.img.xz/.zip')
    .option('--cluster <dir>', 'write every card of a cluster folder built by pikube, in order, asking for each card')
    .option('--from <hostname>', 'with --cluster: start at this card')
    .option('-d, --device <dev>', 'the card to write (e.g. /dev/sdb, /dev/mmcblk0) or an output file; without it the only removable card')
    .option('--bmap <file>', 'block map to use (default: IMAGE.bmap next to the image when present)')
    .option('--no-bmap', 'ignore any block map and write every byte')
    .option('--no-verify', 'skip reading the card back to compare checksums')
    .option('-y, --yes', 'do not ask before overwriting the card')
    .option('--allow-non-removable', 'allow a drive that does not report itself removable (never a system drive)')
    .option('--no-power-off', 'leave the card powered on after writing')
    .action(async (image: string | undefined, options: FlashCommandOptions) => {
      if ((image === undefined) === (options.cluster === undefined)) {
        throw new UserError(image === undefined ? 'nothing to flash' : 'give an image or --cluster DIR, not both', 'pikube flash IMAGE, or pikube flash --cluster DIR');
      }
      if (options.from !== undefined && options.cluster === undefined) throw new UserError('--from needs --cluster DIR', 'pikube flash --cluster DIR --from HOSTNAME');
      await ensureTools('flash');
      const common = {
        device: options.device, useBmap: options.bmap !== false, verify: options.verify, yes: options.yes, allowNonRemovable: options.allowNonRemovable,
        powerOff: options.powerOff, argv: process.argv.slice(2),
      };
      if (options.cluster !== undefined) {
        if (typeof options.bmap === 'string') throw new UserError('--bmap names one image\'s block map', 'leave it out: each card\'s HOSTNAME.img.bmap is used');
        const { flashCluster } = await import('../flash/flash-cluster.ts');
        await flashCluster({ ...common, dir: options.cluster, ...(options.from ? { from: options.from } : {}) });
        return;
      }
      const { flashImage } = await import('../flash/flash-image.ts');
      await flashImage({ ...common, imagePath: image as string, bmapPath: typeof options.bmap === 'string' ? options.bmap : undefined });
    });
}
