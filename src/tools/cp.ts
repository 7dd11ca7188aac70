import { runTool } from './run.ts';

// Copies a whole image, turning runs of zeros into holes and sharing blocks where the filesystem can (reflink).
export async function copySparse(source: string, destination: string, signal?: AbortSignal): Promise<void> {
  await runTool('cp', ['--sparse=always', '--reflink=auto', '--', source, destination], { cancelSignal: signal });
}

// Copies an image that is already sparse: its holes stay holes and only its data is copied, inside the kernel
// (copy_file_range) or not at all where the filesystem shares blocks (reflink). Cheaper than copySparse, which
// reads every data block to look for zeros.
export async function cloneSparse(source: string, destination: string, signal?: AbortSignal): Promise<void> {
  await runTool('cp', ['--sparse=auto', '--reflink=auto', '--', source, destination], { cancelSignal: signal });
}
