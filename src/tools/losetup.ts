import { spawnSync } from 'node:child_process';
import { runTool } from './run.ts';

// Attaches a loop device bounded to one partition, so kernel tools see exactly that partition and nothing else.
// Shielded from the terminal's Ctrl-C: killed half-way, it could attach a device without telling us its name.
export async function attachLoop(image: string, offset: number, sizeLimit: number): Promise<string> {
  const result = await runTool('losetup', ['--find', '--show', '--offset', String(offset), '--sizelimit', String(sizeLimit), image], { shielded: true });
  return result.stdout.trim();
}

// Detaches a loop device this process attached; a device that is already gone is not an error. Run in a
// process group of its own, so a second Ctrl-C at the terminal cannot kill the release itself.
export async function detachLoop(device: string): Promise<void> {
  await runTool('losetup', ['--detach', device], { okExitCodes: [1], shielded: true });
}

// The same, synchronously, for the last-resort release on a forced exit (no event loop left to wait on).
export function detachLoopNow(device: string): void {
  spawnSync('losetup', ['--detach', device], { stdio: 'ignore', timeout: 10_000 });
}
