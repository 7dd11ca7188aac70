import { access, chmod, constants, rename, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.ts';
import { writeBmap } from '../flash/write-bmap.ts';
import { throwIfInterrupted } from '../interrupt.ts';
import { log } from '../log.ts';
import { sha256File } from '../tools/openssl.ts';
import { makeTempFolder, removeTempFolder } from '../temp-folder.ts';

export interface OutputFiles {
  image: string;
  sha256: string;
  size: number;
  bmap: string;
  kubeconfig?: string;
}

export interface WorkArea {
  // The image being built: a hidden file beside the output, renamed into place only on success.
  image: string;
  // Scratch space beside it (pulled image tarballs, partition copies), removed in every case.
  dir: string;
}

// Builds into a temporary file beside the output and renames it into place with OUTPUT.sha256, OUTPUT.bmap (the
// block map flashers use to write only what holds data) and, with Kubernetes, OUTPUT.kubeconfig (0600), only when
// `build` succeeds; on failure or Ctrl-C nothing is left behind and an older
// output stays as it was.
export async function withBuildOutput(output: string, build: (work: WorkArea) => Promise<{ kubeconfig?: string }>, signal?: AbortSignal): Promise<OutputFiles> {
  const folder = dirname(output);
  await access(folder, constants.W_OK).catch(() => {
    throw new UserError(`cannot write to ${folder}`, 'choose an output in a folder you can write to with -o FILE');
  });
  const dir = await makeTempFolder(folder, `.${basename(output)}.pikube-`);
  const image = join(dir, 'image.img');
  try {
    const { kubeconfig } = await build({ image, dir });
    log.step('hashing the image and making its block map');
    const [sha256] = await Promise.all([sha256File(image, signal), writeBmap(image, join(dir, 'image.bmap'))]);
    const { size } = await stat(image);
    await writeFile(join(dir, 'image.sha256'), `${sha256}  ${basename(output)}\n`);
    if (kubeconfig !== undefined) {
      await writeFile(join(dir, 'image.kubeconfig'), kubeconfig, { mode: 0o600 });
      await chmod(join(dir, 'image.kubeconfig'), 0o600);
    }
    if (signal) throwIfInterrupted(signal);
    await rename(image, output);
    await rename(join(dir, 'image.sha256'), `${output}.sha256`);
    await rename(join(dir, 'image.bmap'), `${output}.bmap`);
    if (kubeconfig !== undefined) await rename(join(dir, 'image.kubeconfig'), `${output}.kubeconfig`);
    return { image: output, sha256, size, bmap: `${output}.bmap`, ...(kubeconfig === undefined ? {} : { kubeconfig: `${output}.kubeconfig` }) };
  } finally {
    await removeTempFolder(dir);
  }
}
