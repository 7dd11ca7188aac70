import { runTool } from './run.ts';

// Turns a byte range of a file into a hole, so a sparse copy into it leaves no stale bytes behind.
export async function punchHole(file: string, offset: number, length: number): Promise<void> {
  await runTool('fallocate', ['--punch-hole', '--offset', String(offset), '--length', String(length), file]);
}
