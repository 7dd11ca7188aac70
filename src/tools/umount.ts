import { runTool } from './run.ts';

// Unmounts a mount point (a partition of a card about to be overwritten, or our own loop mount), retrying
// briefly while the kernel still holds the filesystem busy.
export async function unmount(mountpoint: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await runTool('umount', [mountpoint]);
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
