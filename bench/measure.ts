import { execa } from 'execa';

export interface Measurement {
  seconds: number;
  maxRssMiB: number;
}

// Runs a command under GNU time: wall clock and the peak resident memory of the command and its children.
export async function measure(command: string, args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Measurement> {
  const started = process.hrtime.bigint();
  const result = await execa('/usr/bin/time', ['-f', '%M', command, ...args], { cwd: options.cwd, env: options.env, reject: false });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.exitCode !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${String(result.stderr).slice(-2000)}`);
  const kib = Number(String(result.stderr).trim().split('\n').pop());
  return { seconds, maxRssMiB: kib / 1024 };
}

// Runs a shell pipeline the same way, for baselines that are several commands.
export async function measureShell(script: string, options: { cwd?: string } = {}): Promise<Measurement> {
  return measure('bash', ['-euo', 'pipefail', '-c', script], options);
}
