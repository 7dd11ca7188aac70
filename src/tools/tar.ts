import { runTool } from './run.ts';

// Unpacks a (gzip-compressed) release archive into an existing folder, without owners from the archive.
export async function extractArchive(archive: string, destination: string, signal?: AbortSignal): Promise<void> {
  await runTool('tar', ['--extract', '--gzip', '--no-same-owner', '--file', archive, '--directory', destination], { cancelSignal: signal });
}
