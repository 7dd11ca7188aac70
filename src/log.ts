import process from 'node:process';

export type Level = 'quiet' | 'normal' | 'verbose';

let level: Level = 'normal';

// Set once by the CLI from --quiet/--verbose; everything else only reads it.
export function setLogLevel(next: Level): void {
  level = next;
}

export function isVerbose(): boolean {
  return level === 'verbose';
}

// Colour and progress bars only for a person at a terminal, never in pipes, CI logs or with NO_COLOR.
export function isInteractive(stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && process.stdout.isTTY === true && !('NO_COLOR' in process.env);
}

function paint(code: number, text: string): string {
  return isInteractive() ? `\u001B[${code}m${text}\u001B[0m` : text;
}

// Progress and messages go to stderr so stdout carries only data (plan, inspect --json).
export const log = {
  info(message: string): void {
    if (level !== 'quiet') process.stderr.write(`${message}\n`);
  },
  step(message: string): void {
    if (level !== 'quiet') process.stderr.write(`${paint(36, '==>')} ${message}\n`);
  },
  warn(message: string): void {
    process.stderr.write(`${paint(33, 'warning:')} ${message}\n`);
  },
  error(message: string): void {
    process.stderr.write(`${paint(31, 'error:')} ${message}\n`);
  },
  debug(message: string): void {
    if (level === 'verbose') process.stderr.write(`${paint(90, `[${((performance.now()) / 1000).toFixed(2)}s] ${message}`)}\n`);
  },
};
