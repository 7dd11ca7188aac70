import { runTool } from './run.ts';

// Drops the kernel's cached pages of a block device, so a read-back comes from the device, not from memory.
export async function flushBlockDeviceBuffers(device: string): Promise<void> {
  await runTool('blockdev', ['--flushbufs', device]);
}
