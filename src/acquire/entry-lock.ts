import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { throwIfInterrupted } from '../interrupt.ts';
import { log } from '../log.ts';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
  what: string;
}

// Path of the lock file guarding one cache entry.
export function lockPath(cacheDir: string, key: string): string {
  return path.join(cacheDir, 'locks', `${key}.lock`);
}

// Runs fn while holding the entry's lock; another pikube waits its turn, a dead holder's lock is taken over.
export async function withEntryLock<T>(cacheDir: string, key: string, what: string, fn: () => Promise<T>,
  options: { signal?: AbortSignal; pollMs?: number } = {}): Promise<T> {
  let announced = false;
  // Polls rather than retries (not retry-policy.ts): another pikube's download is no failure, so there is no attempt
  // limit and no backoff, only Ctrl-C.
  for (;;) {
    if (options.signal) throwIfInterrupted(options.signal);
    const release = await tryEntryLock(cacheDir, key, what);
    if (release) {
      try {
        return await fn();
      } finally {
        await release();
      }
    }
    if (!announced) {
      const owner = await readOwner(lockPath(cacheDir, key));
      log.info(`waiting for another pikube${owner ? ` (pid ${owner.pid})` : ''} that is fetching ${what}`);
      announced = true;
    }
    await sleep(options.pollMs ?? 200, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

// Takes the lock if it is free (or its holder died) and returns its release; undefined when a live process holds it.
export async function tryEntryLock(cacheDir: string, key: string, what: string): Promise<(() => Promise<void>) | undefined> {
  const file = lockPath(cacheDir, key);
  await mkdir(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    // Written whole beside the lock, then linked into place (link fails if the lock exists): a waiter never reads a
    // lock file that is still empty, so it can always say whose turn it is.
    const mine: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString(), what };
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await writeFile(draft, JSON.stringify(mine));
      await link(draft, file);
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(draft, { force: true });
    }
    const owner = await readOwner(file);
    if (owner ? isAlive(owner) : await isFresh(file)) return undefined;
    await breakStaleLock(file, owner);
  }
  return undefined;
}

// True while a live process holds the entry's lock (prune leaves such entries alone).
export async function isEntryLocked(cacheDir: string, key: string): Promise<boolean> {
  const owner = await readOwner(lockPath(cacheDir, key));
  return owner !== undefined && isAlive(owner);
}

// Moves the stale file aside first, so two waiters cannot both delete a lock that one of them just took.
async function breakStaleLock(file: string, seen: LockOwner | undefined): Promise<void> {
  const aside = `${file}.stale.${process.pid}.${Date.now()}`;
  try {
    await rename(file, aside);
  } catch {
    return;
  }
  const moved = await readOwner(aside);
  if (JSON.stringify(moved) !== JSON.stringify(seen)) await link(aside, file).catch(() => undefined);
  await rm(aside, { force: true });
}

async function readOwner(file: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(file, 'utf8')) as LockOwner;
    return typeof owner.pid === 'number' ? owner : undefined;
  } catch {
    return undefined;
  }
}

// An unreadable lock file is one being written right now, unless it has been so for a while.
async function isFresh(file: string): Promise<boolean> {
  try {
    return Date.now() - (await stat(file)).mtimeMs < 10_000;
  } catch {
    return false;
  }
}

// A lock from another host cannot be checked, so it is treated as held.
function isAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
