import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { runTool } from './run.ts';

// Decompresses an .xz file into destPath (created or truncated); xz reads it multi-threaded and, writing
// straight to the file descriptor (a stream with an fd is passed to the child as is), leaves zero runs as holes.
export async function decompressXzToFile(archivePath: string, destPath: string, signal?: AbortSignal): Promise<void> {
  const handle = await open(destPath, 'w');
  const destination = createWriteStream('', { fd: handle, autoClose: false });
  try {
    await runTool('xz', ['--decompress', '--stdout', '--threads=0', '--', archivePath], { stdout: destination, cancelSignal: signal });
  } finally {
    destination.destroy();
    await handle.close();
  }
}
