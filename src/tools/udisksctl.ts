import { runTool } from './run.ts';

// Powers a USB card reader's drive off so the card can be pulled safely.
export async function powerOffDrive(device: string): Promise<void> {
  await runTool('udisksctl', ['power-off', '--no-user-interaction', '-b', device]);
}
