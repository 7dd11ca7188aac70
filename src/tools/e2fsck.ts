import { extEnvironment, extSpec, type ExtVolume } from './debugfs.ts';
import { runTool } from './run.ts';

export interface FsckResult {
  clean: boolean;
  output: string;
}

// Read-only full check (-fn): exit 0 means clean; anything else is reported, never repaired behind the user's back.
export async function checkExt(volume: ExtVolume | string): Promise<FsckResult> {
  const spec = typeof volume === 'string' ? volume : extSpec(volume);
  const result = await runTool('e2fsck', ['-fn', spec], { env: extEnvironment(), okExitCodes: [1, 2, 4, 8] });
  return { clean: result.exitCode === 0, output: `${result.stdout}${result.stderr}` };
}

// Forced preen before a resize; exit 1 (errors corrected) is success for this purpose.
export async function repairExt(device: string): Promise<void> {
  await runTool('e2fsck', ['-fy', device], { env: extEnvironment(), okExitCodes: [1] });
}
