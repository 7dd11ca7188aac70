// A small seeded random source for the fuzzers (mulberry32): the same seed gives the same cases, so a failure
// printed with its seed can be replayed with PIKUBE_FUZZ_SEED.
export interface Random {
  next(): number;
  int(below: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
}

export function makeRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (below) => Math.floor(next() * below),
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
    chance: (probability) => next() < probability,
  };
}

// The run's seed: PIKUBE_FUZZ_SEED if set, else a fixed one so the suite is repeatable.
export function fuzzSeed(fallback: number): number {
  const text = process.env.PIKUBE_FUZZ_SEED;
  return text ? Number.parseInt(text, 10) >>> 0 : fallback;
}

// How many cases to run: PIKUBE_FUZZ_CASES scales the default (e.g. 10000 for a long local run).
export function fuzzCases(fallback: number): number {
  const text = process.env.PIKUBE_FUZZ_CASES;
  return text ? Math.max(1, Number.parseInt(text, 10)) : fallback;
}
