import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { runOverSsh, type SshLogin } from '../tools/ssh.ts';
import { locateOverlayScript } from '../acquire/overlay-scripts.ts';
import { parseLoginReport, type LoginReport } from './login-report.ts';

// One SSH login to a booting machine, tried again until it works or the deadline.
export interface LoginAttempts {
  user: string;
  port: number;
  knownHosts: string;
  identity?: string;
  // Absolute time (performance.now() milliseconds) after which no new attempt starts.
  deadline: number;
  // How long the probe waits on the machine for first boot to be over.
  waitSeconds: number;
  // True once the machine is gone (QEMU exited): stop trying.
  stopped: () => boolean;
  signal?: AbortSignal;
}

// How the login went: the report, or the last reason it failed, and how many tries it took.
export interface LoginOutcome {
  report?: LoginReport;
  attempts: number;
  // Seconds from the first try to the login that worked.
  seconds: number;
  error?: string;
  // The server refused the key (as opposed to never answering).
  refused: boolean;
}

const CONNECT_TIMEOUT_SECONDS = 20;
const RETRY_PAUSE_MS = 3000;

// Logs in as the user (sshd comes up some time into the boot, and cloud-init makes the user later still) and runs
// the probe (overlay/boot-test/login-probe.sh) once; each failed connection is retried after a pause until the deadline or the machine powers off.
export async function logInWhileBooted(attempts: LoginAttempts): Promise<LoginOutcome> {
  const login: SshLogin = {
    user: attempts.user, port: attempts.port, knownHosts: attempts.knownHosts, connectTimeoutSeconds: CONNECT_TIMEOUT_SECONDS,
    ...(attempts.identity ? { identity: attempts.identity } : {}),
  };
  const probe = await readFile(locateOverlayScript('loginProbe'), 'utf8');
  const started = performance.now();
  let tries = 0;
  let error = 'the machine powered off before sshd answered';
  let refused = false;
  while (!attempts.stopped() && performance.now() < attempts.deadline) {
    tries += 1;
    const budget = Math.max(1000, attempts.deadline - performance.now());
    const result = await runOverSsh(login, probe, [String(attempts.waitSeconds)], Math.min(budget, (attempts.waitSeconds + 120) * 1000), attempts.signal);
    const seconds = (performance.now() - started) / 1000;
    if (result.timedOut) {
      error = `ssh did not finish within ${Math.round(Math.min(budget, (attempts.waitSeconds + 120) * 1000) / 1000)} s`;
    } else if (result.exitCode !== 255) {
      const report = parseLoginReport(result.stdout);
      if (report) return { report, attempts: tries, seconds, refused: false };
      return { attempts: tries, seconds, refused: false, error: `the login worked but the check stopped part-way (exit ${result.exitCode}): ${lastLine(result.stderr || result.stdout)}` };
    } else {
      error = lastLine(result.stderr) || 'ssh failed without a message';
      refused = /Permission denied/.test(result.stderr);
    }
    if (attempts.stopped()) break;
    await sleep(RETRY_PAUSE_MS, undefined, attempts.signal ? { signal: attempts.signal } : {}).catch(() => undefined);
    if (attempts.signal?.aborted) break;
  }
  return { attempts: tries, seconds: (performance.now() - started) / 1000, error, refused };
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter((line) => line.trim()).pop()?.trim() ?? '';
}

// A TCP port on 127.0.0.1 that nothing listens on now, for QEMU's forward to the machine's port 22.
export async function pickFreePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port on 127.0.0.1'))));
    });
  });
}
