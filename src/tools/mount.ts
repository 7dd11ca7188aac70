import { runTool } from './run.ts';

// Mounts an ext4 device read-write at a directory of ours; shielded from the terminal's Ctrl-C, so it either
// mounts and says so or does not mount at all.
export async function mountExt4(device: string, directory: string): Promise<void> {
  await runTool('mount', ['-t', 'ext4', device, directory], { shielded: true });
}
