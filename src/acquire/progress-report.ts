import ProgressBar from 'progress';
import { isInteractive, log } from '../log.ts';
import { formatBytes } from '../format-bytes.ts';

// Reports a transfer: a bar with size, rate and ETA at a terminal, a plain line every few seconds elsewhere.
export interface ProgressReport {
  update(bytes: number, total: number | undefined): void;
  finish(): void;
}

// Starts the report for one download; `label` names what is downloaded.
export function startProgress(label: string, options: { intervalMs?: number } = {}): ProgressReport {
  const started = Date.now();
  const intervalMs = options.intervalMs ?? 5000;
  let lastLine = started;
  let bar: ProgressBar | undefined;
  let current = 0;
  let knownTotal: number | undefined;
  const describe = (bytes: number, total: number | undefined): { rate: string; eta: string } => {
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    const perSecond = bytes / seconds;
    const eta = total && perSecond > 0 ? `${Math.max(0, Math.round((total - bytes) / perSecond))}s` : '?';
    return { rate: `${formatBytes(perSecond)}/s`, eta };
  };
  return {
    update(bytes, total) {
      current = bytes;
      knownTotal = total;
      if (isInteractive()) {
        if (!bar && total) {
          bar = new ProgressBar(`  ${label} [:bar] :percent :done/:size :speed ETA :left`, { total, width: 30, complete: '=', incomplete: ' ', stream: process.stderr, renderThrottle: 200 });
        }
        if (bar) {
          const { rate, eta } = describe(bytes, total);
          bar.update(Math.min(bytes / (total ?? bytes), 1), { done: formatBytes(bytes), size: formatBytes(total ?? bytes), speed: rate, left: eta });
        }
        return;
      }
      if (Date.now() - lastLine >= intervalMs) {
        lastLine = Date.now();
        const { rate, eta } = describe(bytes, total);
        log.info(`  ${label}: ${formatBytes(bytes)}${total ? ` of ${formatBytes(total)} (${Math.floor((bytes / total) * 100)}%)` : ''}, ${rate}${total ? `, ${eta} left` : ''}`);
      }
    },
    finish() {
      if (bar && !bar.complete) bar.terminate();
      const { rate } = describe(current, knownTotal);
      log.info(`  ${label}: ${formatBytes(current)} in ${((Date.now() - started) / 1000).toFixed(1)}s (${rate})`);
    },
  };
}

