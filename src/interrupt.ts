import process from 'node:process';
import { InterruptedError } from './errors.ts';

const controller = new AbortController();

// One signal for the whole run: Ctrl-C aborts it, long operations pass it on, cleanup still runs.
export const runSignal: AbortSignal = controller.signal;

// Installed by the CLI entry only: the first Ctrl-C cancels work and lets cleanup finish, a second one forces exit.
export function installInterruptHandler(onSecond: () => void): void {
  let count = 0;
  const handler = () => {
    count += 1;
    if (count === 1) controller.abort(new InterruptedError());
    else onSecond();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

// Called between steps so an interrupted build stops at the next safe point.
export function throwIfInterrupted(signal: AbortSignal = runSignal): void {
  if (signal.aborted) throw new InterruptedError();
}
