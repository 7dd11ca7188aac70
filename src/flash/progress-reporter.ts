import ProgressBar from 'progress';
import { isInteractive, log } from '../log.ts';
import type { WriteProgress } from './write-image.ts';

// A bar at a terminal; elsewhere one plain line per tenth (or per 256 MiB when the size is unknown).
export function createProgressReporter(): (progress: WriteProgress) => void {
  let phase = '';
  let bar: ProgressBar | undefined;
  let lastStep = -1;
  let started = Date.now();
  return (progress) => {
    if (progress.phase !== phase) {
      bar?.terminate();
      bar = undefined;
      phase = progress.phase;
      lastStep = -1;
      started = Date.now();
      if (isInteractive() && progress.total) {
        bar = new ProgressBar(`${phase.padEnd(9)} [:bar] :percent :mib MiB :speed MiB/s :etas`, { total: progress.total, width: 30, stream: process.stderr, renderThrottle: 200 });
      }
    }
    const mib = Math.floor(progress.done / 1048576);
    if (bar) {
      const seconds = (Date.now() - started) / 1000;
      bar.update(Math.min(1, progress.done / (progress.total ?? 1)), { mib, speed: seconds > 0 ? (progress.done / 1048576 / seconds).toFixed(1) : '-' });
      return;
    }
    const step = progress.total ? Math.floor((progress.done * 10) / progress.total) : Math.floor(progress.done / (256 * 1048576));
    if (step === lastStep) return;
    lastStep = step;
    log.info(`${phase}: ${mib} MiB${progress.total ? ` of ${Math.ceil(progress.total / 1048576)} MiB (${step * 10}%)` : ''}`);
  };
}
