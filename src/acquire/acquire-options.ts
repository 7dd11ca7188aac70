// How every download behaves: where the cache lives, where to fetch from, and how patient to be.
export interface AcquireOptions {
  cacheDir: string;
  // Fetch https://HOST/PATH from MIRROR/HOST/PATH instead (air-gapped sites).
  mirror?: string;
  // Use the cache alone; a missing artifact is an error that names it.
  offline?: boolean;
  // Allow plain http to hosts other than loopback.
  allowHttp?: boolean;
  signal?: AbortSignal;
  // Connect, first-byte and idle-socket timeout of one attempt.
  timeoutMs?: number;
  // Attempts after the first one that made no progress.
  retries?: number;
  // First pause between attempts; it doubles each time.
  retryDelayMs?: number;
}

// Patient enough for a slow mirror, quick enough to notice a dead connection.
export const DEFAULT_TIMEOUT_MS = 30_000;
// Five tries in all, waiting 1, 2, 4, 8 s between them.
export const DEFAULT_RETRIES = 4;
// First pause; doubled after each failure.
export const DEFAULT_RETRY_DELAY_MS = 1000;
