import { setTimeout as sleep } from 'node:timers/promises';
import { InterruptedError } from '../errors.ts';
import { log } from '../log.ts';
import { DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS } from './acquire-options.ts';

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN', 'ERR_STREAM_PREMATURE_CLOSE', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'ERR_HTTP2_STREAM_ERROR']);
const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

// A failure worth another try that carries no errno or HTTP status of its own: a body shorter than announced,
// a resume answered at the wrong offset, a resumed copy that did not verify.
export class TransientError extends Error {}

// How patient every network transfer is (HTTP downloads and registry pulls alike), from the acquire options.
export interface RetrySettings {
  // Attempts after the first one that made no progress.
  retries?: number;
  // First pause between attempts; it doubles each time.
  retryDelayMs?: number;
  signal?: AbortSignal;
}

// What one retried transfer tells the policy about itself.
export interface RetryHooks {
  // Names the transfer in the log line of each retry.
  label: string;
  // True when the failed attempt moved forward (bytes a resume builds on): the count of failures starts again.
  progressed?: () => boolean;
  // Where the next attempt starts, for the log line (" from byte N").
  resumeNote?: () => string;
  // The error to throw for a failure not worth retrying, or after the last attempt (`attempts` in all).
  explain?: (error: unknown, attempts: number) => unknown;
}

// An HTTP status worth another try: a server having a bad moment, or asking to slow down.
export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUS.has(status);
}

// Worth another attempt: a cut connection, a timeout, a transient HTTP status (got's HTTPError), a TransientError.
export function isTransientError(error: unknown): boolean {
  if (error instanceof TransientError) return true;
  const status = httpStatusOf(error);
  if (status !== undefined) return isTransientStatus(status);
  return TRANSIENT_CODES.has(errorCodeOf(error) ?? '');
}

// Runs attempt until it succeeds, retrying transient failures after a doubling pause that Ctrl-C cuts short,
// with one log line per retry; a failure that is not transient, or the last one, goes through hooks.explain.
export async function retryTransient<T>(attempt: () => Promise<T>, settings: RetrySettings, hooks: RetryHooks): Promise<T> {
  const retries = settings.retries ?? DEFAULT_RETRIES;
  const firstDelay = settings.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const explain = hooks.explain ?? ((error: unknown) => error);
  let failures = 0;
  for (let attempts = 1; ; attempts++) {
    try {
      return await attempt();
    } catch (error) {
      if (settings.signal?.aborted) throw new InterruptedError();
      failures = hooks.progressed?.() ? 1 : failures + 1;
      if (!isTransientError(error) || failures > retries) throw explain(error, attempts);
      const delay = firstDelay * 2 ** (failures - 1);
      log.warn(`${hooks.label}: ${describeFailure(error)}; retrying in ${(delay / 1000).toFixed(1)}s${hooks.resumeNote?.() ?? ''} (attempt ${failures + 1} of ${retries + 1})`);
      await sleep(delay, undefined, { signal: settings.signal }).catch(() => {
        throw new InterruptedError();
      });
    }
  }
}

// The status of got's HTTPError (thrown for non-2xx answers when throwHttpErrors is on).
export function httpStatusOf(error: unknown): number | undefined {
  const response = (error as { response?: { statusCode?: unknown } } | undefined)?.response;
  return typeof response?.statusCode === 'number' && (error as { name?: string }).name === 'HTTPError' ? response.statusCode : undefined;
}

// got wraps the system error; the code is on the wrapper or on its cause.
export function errorCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'ERR_GOT_REQUEST_ERROR') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeFailure(error: unknown): string {
  if (error instanceof TransientError) return error.message;
  const status = httpStatusOf(error);
  if (status) return `HTTP ${status}`;
  const code = errorCodeOf(error);
  return `${error instanceof Error ? error.message : String(error)}${code && !(error instanceof Error && error.message.includes(code)) ? ` (${code})` : ''}`;
}
