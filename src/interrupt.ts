import { setMaxListeners } from 'node:events';
import process from 'node:process';
import { InterruptedError } from './errors.ts';

const controller = new AbortController();
// Many tools run at once under this one signal (a cluster makes every card's keys in parallel): not a leak.
setMaxListeners(100, controller.signal);

// One signal for the whole run: Ctrl-C aborts it, long operations pass it on, cleanup still runs.
export const runSignal: AbortSignal = controller.signal;

// How long the release path may take after the first signal before pikube forces its way out (still releasing).
export const FORCE_EXIT_AFTER_MS = 60_000;

// Last-resort releases, newest first: what a forced exit undoes synchronously when the normal path cannot finish.
const lastResorts: Array<() => void> = [];

// Registers a synchronous release (detach a loop device, unmount, remove a temporary folder) that runs only if
// pikube is forced to exit before the normal release path ran; call the returned function once released normally.
export function registerLastResort(release: () => void): () => void {
  lastResorts.push(release);
  return () => {
    const index = lastResorts.lastIndexOf(release);
    if (index >= 0) lastResorts.splice(index, 1);
  };
}

function runLastResorts(): void {
  while (lastResorts.length > 0) {
    const release = lastResorts.pop() as () => void;
    try {
      release();
    } catch {
      // Best effort on the way out: one release failing must not stop the others.
    }
  }
}

// Installed by the CLI entry only. The first Ctrl-C (or SIGTERM) cancels the work and lets every release path run;
// a second one only says that cleanup is under way (pressed twice quickly, it must not skip the releases); a third,
// or the release path outlasting FORCE_EXIT_AFTER_MS, forces exit after the last-resort releases.
export function installInterruptHandler(forceExit: (code: number) => void, warn: (message: string) => void): void {
  let count = 0;
  let first: InterruptedError | undefined;
  const force = () => {
    runLastResorts();
    forceExit((first ?? new InterruptedError()).exitCode);
  };
  const handler = (signal: NodeJS.Signals) => {
    count += 1;
    if (count === 1) {
      first = new InterruptedError(signal);
      controller.abort(first);
      setTimeout(force, FORCE_EXIT_AFTER_MS).unref();
    } else if (count === 2) {
      warn('still releasing loop devices, mounts and temporary files; press Ctrl-C once more to force exit');
    } else {
      force();
    }
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

// Called between steps so an interrupted build stops at the next safe point.
export function throwIfInterrupted(signal: AbortSignal = runSignal): void {
  if (signal.aborted) throw signal.reason instanceof InterruptedError ? signal.reason : new InterruptedError();
}
