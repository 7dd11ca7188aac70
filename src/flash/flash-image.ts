import { access } from 'node:fs/promises';
import { InterruptedError, UserError } from '../errors.ts';
import { runSignal } from '../interrupt.ts';
import { log } from '../log.ts';
import { ejectDrive } from '../tools/eject.ts';
import { powerOffDrive } from '../tools/udisksctl.ts';
import { unmount } from '../tools/umount.ts';
import { canAsk, terminalAsker, type Asker } from './ask-user.ts';
import type { NamedPath } from '../same-file.ts';
import { countMappedBytes, readBlockMap, type BlockMap } from './block-map.ts';
import { checkTargetHoldsNot } from './check-target-holds.ts';
import { completeBlockMap } from './complete-block-map.ts';
import { checkTarget, checkWriteAccess, describeTarget, formatDriveBytes, type FlashTarget } from './flash-target.ts';
import { readImageSize } from '../acquire/open-image-stream.ts';
import { checkRawImageComplete } from './check-raw-image.ts';
import { findCardCandidates, listDrives, type ListDriveFunction } from './list-drives.ts';
import { createProgressReporter } from './progress-reporter.ts';
import { writeImage, type WriteImageOptions, type WriteResult } from './write-image.ts';

export interface FlashOptions {
  imagePath: string;
  device?: string;
  // An explicit .bmap; without it IMAGE.bmap next to the image is used when present.
  bmapPath?: string;
  useBmap?: boolean;
  verify?: boolean;
  yes?: boolean;
  allowNonRemovable?: boolean;
  powerOff?: boolean;
  // The command line as typed, to print the sudo hint.
  argv?: readonly string[];
  signal?: AbortSignal;
  listDrives?: ListDriveFunction;
  asker?: Asker;
  onProgress?: WriteImageOptions['onProgress'];
  afterSync?: WriteImageOptions['afterSync'];
  syncWindowBytes?: number;
  // More files the target must not hold (a cluster's other cards), besides the image and its block map.
  protect?: readonly NamedPath[];
}

export interface FlashSummary extends WriteResult {
  device: string;
  bmapPath?: string;
  seconds: number;
}

// `pikube flash`: pick and check the card, unmount it, write (only mapped ranges with a .bmap), verify, power it off.
export async function flashImage(options: FlashOptions): Promise<FlashSummary> {
  const signal = options.signal ?? runSignal;
  await access(options.imagePath).catch(() => {
    throw new UserError(`image ${options.imagePath} does not exist`, 'build one with `pikube build`, or give the path of a downloaded image');
  });
  await checkRawImageComplete(options.imagePath);
  const bmapPath = options.useBmap === false ? undefined : await findBmapPath(options.imagePath, options.bmapPath);
  const asker = options.asker ?? terminalAsker;
  const interactive = options.asker !== undefined || canAsk();
  // A named device is described while the block map is read and checked against the filesystems.
  const named = options.device ? describeTarget(options.device) : undefined;
  named?.catch(() => undefined);
  const map = bmapPath ? await readCompleteMap(options.imagePath, bmapPath) : undefined;
  const imageSize = map?.imageSize ?? await readImageSize(options.imagePath);
  const target = named ? await named : await chooseCard(await listDrives(options.listDrives), asker, options.yes === true || !interactive);
  // Its block map is protected even with --no-bmap: writing an image over it would destroy it just the same.
  const sideMap = bmapPath ?? await findBmapPath(options.imagePath);
  await checkTargetHoldsNot(target.device, [
    { path: options.imagePath, role: 'the image' }, ...(sideMap ? [{ path: sideMap, role: 'its block map' }] : []), ...(options.protect ?? []),
  ]);
  checkTarget(target, imageSize, { allowNonRemovable: options.allowNonRemovable });
  await checkWriteAccess(target, options.argv ?? ['flash', options.imagePath, '--device', target.device]);
  if (target.kind === 'block' && !options.yes) {
    if (!interactive) throw new UserError(`about to overwrite ${target.device}: nobody is at a terminal to confirm`, 'add --yes to confirm');
    const question = `Write ${options.imagePath}${imageSize ? ` (${formatDriveBytes(imageSize)})` : ''} to ${describeDrive(target)}? Everything on it will be lost.`;
    if (!(await asker.confirm(question))) throw new UserError('nothing was written: not confirmed', 'answer y to write, or pass --yes');
  }
  for (const mountpoint of target.mountpoints.toSorted((a, b) => b.length - a.length)) {
    log.step(`unmounting ${mountpoint}`);
    await unmount(mountpoint);
  }

  log.step(`writing ${options.imagePath} to ${target.device}${map ? ` using ${bmapPath} (${formatDriveBytes(countMappedBytes(map))} mapped)` : ' (no block map: every byte)'}`);
  const started = performance.now();
  let result: WriteResult;
  try {
    result = await writeImage({
      imagePath: options.imagePath, target: target.device, targetIsBlockDevice: target.kind === 'block',
      targetSize: target.kind === 'block' ? target.size : undefined, map, verify: options.verify !== false, signal,
      onProgress: options.onProgress ?? createProgressReporter(), afterSync: options.afterSync, syncWindowBytes: options.syncWindowBytes,
    });
  } catch (error) {
    const why = error instanceof InterruptedError ? 'stopped' : 'failed';
    log.warn(`${why}: ${target.device} is incomplete and will not boot (its partition table was not written); run pikube flash again`);
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  log.step(`wrote ${formatDriveBytes(result.bytesWritten)} in ${seconds.toFixed(1)} s${result.verified ? ', read back and verified' : ' (not verified: --no-verify)'}`);
  if (target.kind === 'block' && !target.loop && options.powerOff !== false) await powerOff(target.device);
  return { ...result, device: target.device, bmapPath, seconds };
}

// The block map, with whatever it leaves out that the image's filesystems need added back (and said so).
async function readCompleteMap(imagePath: string, bmapPath: string): Promise<BlockMap> {
  const completed = await completeBlockMap(imagePath, await readBlockMap(bmapPath));
  const first = completed.added[0];
  if (first) {
    log.warn(`${bmapPath} leaves out ${formatDriveBytes(completed.addedBytes)} that the image's filesystems use (metadata and zeros, from byte ${first.start}); `
      + 'a map made from the file\'s holes (bmaptool create) would leave a card that held data damaged, so pikube writes and verifies those blocks too');
    const command = `pikube bmap ${imagePath}${bmapPath === `${imagePath}.bmap` ? '' : ` -o ${bmapPath}`}`;
    log.info(`  hint: \`${command}\` rewrites ${bmapPath} from the filesystems, so bmaptool copy is safe with it as well`);
  }
  return completed.map;
}

// IMAGE.bmap, or the .bmap of the image a compressed file holds (pi.img.bmap for pi.img.xz).
export async function findBmapPath(imagePath: string, explicit?: string): Promise<string | undefined> {
  if (explicit) {
    await access(explicit).catch(() => {
      throw new UserError(`block map ${explicit} does not exist`, 'give the .bmap written next to the image, or leave --bmap out');
    });
    return explicit;
  }
  const stripped = imagePath.replace(/\.(gz|xz|zip)$/i, '');
  const candidates = [...new Set([`${imagePath}.bmap`, `${stripped}.bmap`])];
  for (const candidate of candidates) {
    if (await access(candidate).then(() => true, () => false)) return candidate;
  }
  return undefined;
}

async function chooseCard(drives: Awaited<ReturnType<typeof listDrives>>, asker: Asker, cannotAsk: boolean): Promise<FlashTarget> {
  const candidates = findCardCandidates(drives);
  if (candidates.length === 0) {
    throw new UserError('no removable card found', 'insert the SD card (or its reader) and try again; `pikube drives` lists what pikube sees, --device picks one');
  }
  if (candidates.length === 1) return { ...(candidates[0] as FlashTarget), kind: 'block', loop: false };
  if (cannotAsk) {
    throw new UserError(`${candidates.length} removable drives found: ${candidates.map((d) => d.device).join(', ')}`, 'name the card with --device');
  }
  const index = await asker.choose('Which drive holds the card?', candidates.map(describeDrive));
  const chosen = index === undefined ? undefined : candidates[index];
  if (!chosen) throw new UserError('nothing was written: no drive chosen', 'name the card with --device');
  return { ...chosen, kind: 'block', loop: false };
}

function describeDrive(drive: { device: string; model: string; size: number; bus: string }): string {
  return `${drive.device} (${drive.model || 'unknown model'}, ${formatDriveBytes(drive.size)}, ${drive.bus})`;
}

// Powers the reader off so the card can be pulled; where no tool can, the card is synced and safe to remove anyway.
async function powerOff(device: string): Promise<void> {
  for (const attempt of [powerOffDrive, ejectDrive]) {
    try {
      await attempt(device);
      log.step(`${device} is powered off: remove the card`);
      return;
    } catch (error) {
      if (error instanceof UserError) continue;
      log.warn(`could not power ${device} off (${(error as Error).message}); it is synced and safe to remove`);
      return;
    }
  }
  log.step(`${device} is synced: remove the card`);
}
