import { createHash, randomBytes } from 'node:crypto';
import { readSourceDateEpoch } from '../source-date-epoch.ts';

// One source of time and randomness per build: SOURCE_DATE_EPOCH makes both deterministic, so the same recipe
// and inputs give a byte-identical image; without it every build gets a fresh instance-id and salt.
export interface BuildClock {
  epochSeconds: number;
  reproducible: boolean;
  // Deterministic from the seed when reproducible, random otherwise.
  token(seed: string, length: number): string;
}

export function readBuildClock(env: NodeJS.ProcessEnv = process.env): BuildClock {
  const epoch = readSourceDateEpoch(env);
  const reproducible = epoch !== undefined;
  return {
    epochSeconds: epoch ?? Math.floor(Date.now() / 1000),
    reproducible,
    token(seed, length) {
      const bytes = reproducible ? createHash('sha256').update(`${epoch}:${seed}`).digest() : randomBytes(32);
      const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
      return [...bytes.subarray(0, length)].map((b) => alphabet[b % alphabet.length]).join('');
    },
  };
}
