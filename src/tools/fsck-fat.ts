import { runTool } from './run.ts';

export interface FatCheck {
  clean: boolean;
  output: string;
}

// fsck.fat has no offset option: callers give it the partition as a file of its own.
export async function checkFat(partitionFile: string): Promise<FatCheck> {
  const result = await runTool('fsck.fat', ['-n', partitionFile], { okExitCodes: [1, 2] });
  return { clean: result.exitCode === 0, output: `${result.stdout}${result.stderr}` };
}
