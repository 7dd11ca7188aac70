import { setMaxListeners } from 'node:events';
import process from 'node:process';
import { InterruptedError } from './errors.ts';

const controller = new AbortController();
// Many tools run at once under this one signal (a cluster makes every card's keys in parallel): not a leak.
setMaxListeners(100, controller.signal);

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
