import { runTool } from './run.ts';

// Mounts an ext4 device read-write at a directory of ours.
export async function mountExt4(device: string, directory: string): Promise<void> {
  await runTool('mount', ['-t', 'ext4', device, directory]);
}

// Unmounts, retrying briefly while the kernel still holds the filesystem busy.
export async function unmount(directory: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await runTool('umount', [directory]);
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
