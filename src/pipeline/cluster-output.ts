import { access, constants, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.ts';
import { CLUSTER_MANIFEST } from '../flash/cluster-manifest.ts';
import { throwIfInterrupted } from '../interrupt.ts';
import { makeTempFolder, removeTempFolder } from '../temp-folder.ts';


export interface ClusterWorkArea {
  // Where the finished files go; renamed to the output folder only on success.
  out: string;
  // Scratch space (the unpacked base, keys, pulled images), removed in every case.
  scratch: string;
}

// Builds a whole cluster into a hidden folder beside DIR and swaps it into place only when `build` succeeds; on
// failure or Ctrl-C nothing is left behind and an older DIR stays as it was. A DIR that pikube did not write is
// never replaced.
export async function withClusterOutput<T>(output: string, build: (work: ClusterWorkArea) => Promise<T>): Promise<T> {
  const parent = dirname(output);
  await access(parent, constants.W_OK).catch(() => {
    throw new UserError(`cannot write to ${parent}`, 'choose an output folder inside a folder you can write to with -o DIR');
  });
  await checkReplaceable(output);
  const temp = await makeTempFolder(parent, `.${basename(output)}.pikube-`);
  const work = { out: join(temp, 'out'), scratch: join(temp, 'work') };
  try {
    await mkdir(work.out);
    await mkdir(work.scratch);
    const result = await build(work);
    await rm(work.scratch, { recursive: true, force: true });
    await checkReplaceable(output);
    throwIfInterrupted();
    if (await stat(output).catch(() => undefined)) await rename(output, join(temp, 'previous'));
    await rename(work.out, output);
    return result;
  } finally {
    await removeTempFolder(temp);
  }
}

async function checkReplaceable(output: string): Promise<void> {
  const info = await stat(output).catch(() => undefined);
  if (!info) return;
  const hint = 'choose a new folder with -o DIR, or remove that one yourself';
  if (!info.isDirectory()) throw new UserError(`${output} exists and is not a folder`, `a cluster is written as a folder of images: ${hint}`);
  const names = await readdir(output);
  if (names.length > 0 && !names.includes(CLUSTER_MANIFEST)) {
    throw new UserError(`${output} is not empty and was not written by pikube build (it has no ${CLUSTER_MANIFEST})`, hint);
  }
}
