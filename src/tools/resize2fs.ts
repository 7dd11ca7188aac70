import { extEnvironment } from './debugfs.ts';
import { runTool } from './run.ts';

// Grows the filesystem on a device or a file that holds it from byte 0 (never `?offset=`: resize2fs then
// truncates the image or grows past the partition) to fill that device or file.
export async function growExt(deviceOrFile: string): Promise<void> {
  await runTool('resize2fs', ['-f', deviceOrFile], { env: extEnvironment() });
}
