import { runTool } from './run.ts';

// Copies a whole image, keeping holes as holes and sharing blocks where the filesystem can (reflink).
export async function copySparse(source: string, destination: string, signal?: AbortSignal): Promise<void> {
  await runTool('cp', ['--sparse=always', '--reflink=auto', '--', source, destination], { cancelSignal: signal });
}
