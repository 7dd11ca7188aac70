import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { registerLastResort } from './interrupt.ts';

const lastResorts = new Map<string, () => void>();

// Makes a temporary folder that its owner removes with removeTempFolder (in a finally), and that a forced exit
// (a third Ctrl-C) removes too, so no run leaves one behind.
export async function makeTempFolder(parent: string, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(parent, prefix));
  lastResorts.set(dir, registerLastResort(() => rmSync(dir, { recursive: true, force: true })));
  return dir;
}

// Removes a folder made by makeTempFolder, with everything in it.
export async function removeTempFolder(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  lastResorts.get(dir)?.();
  lastResorts.delete(dir);
}
