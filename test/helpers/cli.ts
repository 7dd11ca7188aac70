import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

export const PIKUBE_BIN = fileURLToPath(new URL('../../bin/pikube.js', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

// Runs the real CLI as a user would, never throwing: tests assert on exit code and messages.
export async function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; extendEnv?: boolean } = {}): Promise<CliResult> {
  const result = await execa('node', [PIKUBE_BIN, ...args], { reject: false, cwd: options.cwd, env: { NO_COLOR: '1', ...options.env }, extendEnv: options.extendEnv ?? true });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

// Starts the CLI without waiting, for tests that interrupt it.
export function startCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): ResultPromise {
  return execa('node', [PIKUBE_BIN, ...args], { reject: false, cwd: options.cwd, env: { NO_COLOR: '1', ...options.env } });
}
