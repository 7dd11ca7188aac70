import { runTool } from './run.ts';

// Ejects a removable drive where udisksctl is not installed.
export async function ejectDrive(device: string): Promise<void> {
  await runTool('eject', [device]);
}
