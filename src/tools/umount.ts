import { spawnSync } from 'node:child_process';
import { runTool } from './run.ts';

// Unmounts a mount point (a partition of a card about to be overwritten, or our own loop mount), retrying
// briefly while the kernel still holds the filesystem busy: a local EBUSY that clears within a second, so a short
// loop of its own rather than the network retry policy (acquire/retry-policy.ts).
export async function unmount(mountpoint: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await runTool('umount', [mountpoint], { shielded: true });
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

// Unmounts at once for the last-resort release on a forced exit: lazily, so a busy filesystem is detached from
// the tree now and released by the kernel when its last user is gone.
export function unmountNow(mountpoint: string): void {
  spawnSync('umount', ['--lazy', mountpoint], { stdio: 'ignore', timeout: 10_000 });
}
