// Exit codes the CLI promises: 1 the user's input, 2 an external tool or the system, 70 a bug (EX_SOFTWARE),
// 128 + the signal's number when stopped by one (130 Ctrl-C/SIGINT, 143 SIGTERM), as shells report it.
export const EXIT = { ok: 0, user: 1, tool: 2, internal: 70, interrupted: 130, terminated: 143 } as const;

// The user can fix this: the message names the problem, the hint names the fix.
export class UserError extends Error {
  override name = 'UserError';
  constructor(message: string, readonly hint?: string, options?: ErrorOptions) {
    super(message, options);
  }
}

// An external command failed; carries what ran, how it ended and what it said.
export class ToolError extends Error {
  override name = 'ToolError';
  readonly command: string;
  readonly exitCode: number | undefined;
  readonly stderr: string;
  constructor(init: { command: string; exitCode?: number; stderr?: string; message?: string; hint?: string }, options?: ErrorOptions) {
    const stderr = (init.stderr ?? '').trim();
    super(init.message ?? `${init.command} failed${init.exitCode === undefined ? '' : ` (exit ${init.exitCode})`}${stderr ? `: ${lastLines(stderr, 6)}` : ''}`, options);
    this.command = init.command;
    this.exitCode = init.exitCode;
    this.stderr = stderr;
    this.hint = init.hint;
  }
  readonly hint: string | undefined;
}

// A broken promise inside pikube itself: a bug to report, never the user's fault.
export class InternalError extends Error {
  override name = 'InternalError';
}

// Thrown when the user pressed Ctrl-C (or the system sent SIGTERM), so cleanup runs and the CLI exits 130 (143).
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  readonly exitCode: number;
  constructor(readonly signal: 'SIGINT' | 'SIGTERM' | string = 'SIGINT') {
    super('interrupted');
    this.exitCode = signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
  }
}

// Maps any thrown value to the exit code the CLI documents.
export function getExitCode(error: unknown): number {
  if (error instanceof UserError) return EXIT.user;
  if (error instanceof ToolError) return EXIT.tool;
  if (error instanceof InterruptedError) return error.exitCode;
  if (error instanceof Error && 'code' in error && typeof error.code === 'string' && SYSTEM_CODES.has(error.code)) return EXIT.tool;
  return EXIT.internal;
}

const SYSTEM_CODES = new Set(['ENOSPC', 'EIO', 'EACCES', 'EPERM', 'EROFS', 'EDQUOT', 'EMFILE', 'ENFILE', 'EBUSY', 'ENOMEM']);

function lastLines(text: string, count: number): string {
  return text.split('\n').slice(-count).join('\n');
}
