import { runTool } from './run.ts';

// Unmounts one mount point (a partition of the card the user is about to overwrite).
export async function unmountPath(mountpoint: string): Promise<void> {
  await runTool('umount', [mountpoint]);
}
