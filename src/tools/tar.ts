import { runTool } from './run.ts';

// Unpacks a (gzip-compressed) release archive into an existing folder, without owners from the archive.
export async function extractArchive(archive: string, destination: string, signal?: AbortSignal): Promise<void> {
  await runTool('tar', ['--extract', '--gzip', '--no-same-owner', '--file', archive, '--directory', destination], { cancelSignal: signal });
}

// The member names of a gzip-compressed tar, one per element.
export async function listArchive(archive: string, signal?: AbortSignal): Promise<string[]> {
  const result = await runTool('tar', ['--list', '--gzip', '--file', archive], { cancelSignal: signal });
  return result.stdout.split('\n').filter((line) => line !== '');
}

// One member of a gzip-compressed tar as text.
export async function readArchiveMember(archive: string, member: string, signal?: AbortSignal): Promise<string> {
  return (await runTool('tar', ['--extract', '--gzip', '--to-stdout', '--file', archive, member], { cancelSignal: signal })).stdout;
}
