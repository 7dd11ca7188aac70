import ProgressBar from 'progress';
import { isInteractive, log } from '../log.ts';
import type { WriteProgress } from './write-image.ts';

const MiB = 1024 * 1024;

// A bar at a terminal (over writing and reading back); elsewhere a plain line per tenth written (or per 256 MiB of unknown size).
export function createProgressReporter(): (progress: WriteProgress) => void {
  let bar: ProgressBar | undefined;
  let lastStep = -1;
  const started = Date.now();
  return (progress) => {
    const written = Math.floor(progress.written / MiB);
    const verified = Math.floor(progress.verified / MiB);
    if (isInteractive() && progress.total) {
      bar ??= new ProgressBar('[:bar] :percent written :written MiB (:speed MiB/s), verified :verified MiB', { total: progress.total, width: 24, stream: process.stderr, renderThrottle: 200 });
      const seconds = (Date.now() - started) / 1000;
      const done = progress.verifying ? (progress.written + progress.verified) / (2 * progress.total) : progress.written / progress.total;
      bar.update(Math.min(1, done), { written, verified, speed: seconds > 0 ? (progress.written / MiB / seconds).toFixed(1) : '-' });
      return;
    }
    const step = progress.total ? Math.floor((progress.written * 10) / progress.total) : Math.floor(progress.written / (256 * MiB));
    if (step === lastStep) return;
    lastStep = step;
    log.info(`written ${written} MiB${progress.total ? ` of ${Math.ceil(progress.total / MiB)} MiB (${step * 10}%)` : ''}, verified ${verified} MiB`);
  };
}
