import { runTool } from './run.ts';

// Attaches a loop device bounded to one partition, so kernel tools see exactly that partition and nothing else.
export async function attachLoop(image: string, offset: number, sizeLimit: number): Promise<string> {
  const result = await runTool('losetup', ['--find', '--show', '--offset', String(offset), '--sizelimit', String(sizeLimit), image]);
  return result.stdout.trim();
}

// Detaches a loop device this process attached; a device that is already gone is not an error.
export async function detachLoop(device: string): Promise<void> {
  await runTool('losetup', ['--detach', device], { okExitCodes: [1] });
}
