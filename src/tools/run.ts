import { execa, type Options, type Result } from 'execa';
import { InterruptedError, ToolError, UserError } from '../errors.ts';
import { log } from '../log.ts';
import { findRequirement } from './requirements.ts';

export interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  // Exit codes that are not failures for this tool (e2fsck returns 1 when it fixed something).
  okExitCodes?: number[];
  cancelSignal?: AbortSignal;
  stdout?: Options['stdout'];
  timeoutMs?: number;
  // With a timeout: report that the tool was stopped at the deadline (timedOut) instead of throwing.
  returnOnTimeout?: boolean;
  stdin?: Options['stdin'];
  // Run in a process group of its own, out of reach of the terminal's Ctrl-C: for release steps (unmount,
  // detach) that must finish even when the user presses it again.
  shielded?: boolean;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  timedOut?: boolean;
}

// The single door to external tools: argument arrays only, typed results, a ToolError on failure.
export async function runTool(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const command = [file, ...args].join(' ');
  log.debug(`$ ${command}`);
  let result: Result;
  try {
    result = await execa(file, args, {
      input: options.input,
      env: { LC_ALL: 'C', ...options.env },
      reject: false,
      stripFinalNewline: false,
      cancelSignal: options.cancelSignal,
      timeout: options.timeoutMs,
      stdout: options.stdout,
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
      ...(options.shielded ? { detached: true } : {}),
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
  } catch (error) {
    throw new ToolError({ command, message: `could not run ${file}: ${(error as Error).message}` }, { cause: error });
  }
  if (options.cancelSignal?.aborted || result.isCanceled) throw new InterruptedError();
  if (result.timedOut && options.returnOnTimeout) {
    return { stdout: typeof result.stdout === 'string' ? result.stdout : '', stderr: typeof result.stderr === 'string' ? result.stderr : '', exitCode: -1, timedOut: true };
  }
  if (result.failed && result.exitCode === undefined) {
    const code = (result as { code?: string }).code;
    if (code === 'ENOENT' || /ENOENT/.test(String(result.message))) throw missingTool(file);
    throw new ToolError({ command, stderr: String(result.stderr ?? ''), message: `${file} did not finish: ${result.shortMessage}` });
  }
  const exitCode = result.exitCode ?? 0;
  const stdout = typeof result.stdout === 'string' ? result.stdout : '';
  const stderr = typeof result.stderr === 'string' ? result.stderr : '';
  if (exitCode !== 0 && !(options.okExitCodes ?? []).includes(exitCode)) {
    throw new ToolError({ command, exitCode, stderr: stderr || stdout });
  }
  return { stdout, stderr, exitCode };
}

// A missing tool is the user's to install; name the package that provides it.
export function missingTool(file: string): UserError {
  const requirement = findRequirement(file);
  const hint = requirement
    ? `install it: apt-get install ${requirement.debian}  (Homebrew: brew install ${requirement.homebrew}); \`pikube doctor\` checks them all`
    : `install ${file} and make sure it is on PATH; \`pikube doctor\` checks the tools pikube needs`;
  return new UserError(`${file} is not installed`, hint);
}
