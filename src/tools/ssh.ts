import { InternalError } from '../errors.ts';
import { runTool } from './run.ts';

// Where and as whom to log in: a user on 127.0.0.1 at a forwarded port, with a private key (or the user's own
// keys and agent when none is named), host keys accepted once into a throw-away known_hosts file.
export interface SshLogin {
  user: string;
  port: number;
  knownHosts: string;
  identity?: string;
  connectTimeoutSeconds: number;
}

// The ssh arguments for one non-interactive login that runs `sh -s WORDS` (the script comes on stdin, the words are
// its $1…; the remote shell splits them, so only plain words pass): never a password prompt (BatchMode), a new host
// key is accepted and remembered only in the given file, nothing from ~/.ssh/config.
export function makeSshArgs(login: SshLogin, words: readonly string[] = []): string[] {
  const unsafe = words.find((word) => !/^[A-Za-z0-9._=/-]+$/.test(word));
  if (unsafe !== undefined) throw new InternalError(`ssh script argument ${JSON.stringify(unsafe)} is not a plain word`);
  return [
    '-F', 'none',
    '-p', String(login.port),
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=accept-new',
    '-o', `UserKnownHostsFile=${login.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', `ConnectTimeout=${login.connectTimeoutSeconds}`,
    '-o', 'ServerAliveInterval=10',
    '-o', 'LogLevel=ERROR',
    ...(login.identity ? ['-i', login.identity, '-o', 'IdentitiesOnly=yes'] : []),
    '-l', login.user,
    '127.0.0.1',
    ['sh -s', ...words].join(' '),
  ];
}

// Runs SCRIPT with its argument WORDS on the machine over one SSH login. ssh's own exit code 255 means the login
// failed (no connection, key refused); any other code is the script's.
export async function runOverSsh(login: SshLogin, script: string, words: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<{ exitCode: number; stdout: string; stderr: string; timedOut: boolean }> {
  const result = await runTool('ssh', makeSshArgs(login, words), {
    input: script, timeoutMs, returnOnTimeout: true, okExitCodes: Array.from({ length: 255 }, (_, i) => i + 1), ...(signal ? { cancelSignal: signal } : {}),
  });
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, timedOut: result.timedOut === true };
}
