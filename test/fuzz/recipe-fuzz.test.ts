import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { parse, stringify } from 'yaml';
import { listClusterNodes } from '../../src/kube/cluster-nodes.ts';
import { parseRecipe } from '../../src/config/load-recipe.ts';
import type { Recipe } from '../../src/config/schema.ts';
import { EXIT, getExitCode, UserError } from '../../src/errors.ts';
import { readImageFacts } from '../../src/image/read-facts.ts';
import { buildPlan } from '../../src/plan/build-plan.ts';
import type { ImageFacts } from '../../src/plan/types.ts';
import { runCli } from '../helpers/cli.ts';
import { fuzzCases, fuzzSeed, makeRandom, type Random } from '../helpers/fuzz.ts';
import { makeBase } from '../helpers/image.ts';
import { TEST_SSH_KEY } from '../helpers/recipe.ts';

const EXAMPLES = new URL('../../examples/', import.meta.url);
const KEY = TEST_SSH_KEY;

// A recipe that uses every key, so mutations reach every part of the schema.
const FULL = {
  base: { source: 'base.img', sha256: 'a'.repeat(64) },
  hostname: 'pi-1',
  user: { name: 'pirate', password: 'secret-pass', sshAuthorizedKeys: [KEY] },
  wifi: { ssid: 'home', psk: 'long-enough', country: 'gb' },
  files: [
    { path: '/etc/motd', content: 'hi\n', mode: '0644', owner: 'root:root' },
    { partition: 'boot', path: '/x.txt', content: 'boot' },
    { path: '/usr/local/bin/tool', source: 'tool.sh', mode: 755 },
    { path: '/opt/link', symlink: '/etc/motd' },
  ],
  network: { address: '192.168.1.50/24', gateway: '192.168.1.1', dns: ['1.1.1.1'], interface: 'eth0' },
  images: [],
  registryMirror: 'https://mirror.example.org',
};

const SCALARS: unknown[] = [0, -1, 1.5, 2 ** 53, Number.MAX_VALUE, true, false, null, '', ' ', 'x'.repeat(100_000), 'pï-ñødé', '🐧🐧', '\u202eevil', 'a\u0000b',
  '\ud800', '../../etc/passwd', '/', '/../x', '0644', '1:2', 'root:', '::', '0.0.0.0/0', '255.255.255.255/32', '999.1.1.1/24', 'v1.2.3+k3s1', 'static', 'k3s',
  '$6$x', 'ssh-ed25519 AAAA', 'https://', 'file:///etc/passwd', [], {}, [[[]]], { a: { b: { c: 1 } } }, [null], [1, 'a', true]];

const TEXT_SCALARS = ['~', 'yes', 'no', 'on', '0x1F', '0o17', '1e400', '-.inf', '.nan', '!!str 5', '!!binary AAAA', "'unterminated", '"\\x"', '|', '>-', '&a', '*a', '? x', '- -', '{', '[', '%', '@', '`', '<<: *a'];

type Mutable = Record<string, unknown> | unknown[];

function containers(value: unknown, path: Array<string | number> = [], seen = new Set<unknown>()): Array<{ parent: Mutable; key: string | number; path: Array<string | number> }> {
  if (value === null || typeof value !== 'object' || seen.has(value)) return [];
  seen.add(value);
  const found: Array<{ parent: Mutable; key: string | number; path: Array<string | number> }> = [];
  for (const [key, child] of Object.entries(value)) {
    const k = Array.isArray(value) ? Number(key) : key;
    found.push({ parent: value as Mutable, key: k, path: [...path, k] });
    found.push(...containers(child, [...path, k], seen));
  }
  return found;
}

function randomString(random: Random): string {
  const alphabet = ['a', 'Z', '0', '-', '_', '.', '/', ':', ' ', '\t', '"', "'", '\\', '#', '&', '*', '!', '|', '>', '{', '}', '[', ']', ',', '\n', 'é', '漢', '🐧', '\u0000', '\u200b'];
  return Array.from({ length: random.int(12) }, () => random.pick(alphabet)).join('');
}

function randomValue(random: Random, depth = 0): unknown {
  const roll = random.int(depth > 2 ? 3 : 5);
  if (roll === 0) return random.pick(SCALARS);
  if (roll === 1) return randomString(random);
  if (roll === 2) return random.int(2) ? random.int(100_000) : -random.next();
  if (roll === 3) return Array.from({ length: random.int(4) }, () => randomValue(random, depth + 1));
  return Object.fromEntries(Array.from({ length: random.int(4) }, () => [randomString(random) || 'k', randomValue(random, depth + 1)]));
}

// One structural or value mutation of the recipe data.
function mutateData(data: Record<string, unknown>, random: Random): void {
  const spots = containers(data);
  const spot = spots.length > 0 ? random.pick(spots) : undefined;
  if (!spot) return;
  const { parent, key } = spot;
  const get = () => (parent as Record<string | number, unknown>)[key];
  const set = (value: unknown) => { (parent as Record<string | number, unknown>)[key] = value; };
  switch (random.int(9)) {
    case 0: if (Array.isArray(parent)) parent.splice(Number(key), 1); else delete parent[key as string]; break;
    case 1: set(random.pick(SCALARS)); break;
    case 2: set(randomValue(random)); break;
    case 3: set([get()]); break;
    case 4: set({ [randomString(random) || 'x']: get() }); break;
    case 5: if (Array.isArray(parent)) parent.push(get()); else parent[`${String(key)}${random.pick(['s', '_', 'X', ''])}`] = get(); break;
    case 6: { const other = random.pick(spots); set((other.parent as Record<string | number, unknown>)[other.key]); break; }
    case 7: set(typeof get() === 'string' ? String(get()).repeat(random.int(3) + 2) : String(get())); break;
    default: data[randomString(random) || 'extra'] = randomValue(random);
  }
}

// Damage at the text level: YAML syntax, aliases and anchors, duplicate lines, raw bytes.
function mutateText(text: string, random: Random): string {
  const lines = text.split('\n');
  const at = random.int(lines.length);
  switch (random.int(9)) {
    case 0: lines.splice(at, 0, lines[random.int(lines.length)] ?? ''); break;
    case 1: lines[at] = `${lines[at] ?? ''} ${random.pick(TEXT_SCALARS)}`; break;
    case 2: lines[at] = (lines[at] ?? '').replace(/: (.*)$/, `: ${random.pick(TEXT_SCALARS)}`); break;
    case 3: lines[at] = (lines[at] ?? '').replace(/: (\S.*)$/, ': &x $1'); lines.push(`${random.pick(['extra', 'hostname', 'files'])}: *${random.pick(['x', 'nope'])}`); break;
    case 4: lines[at] = `${random.pick(['\t', ' ', '   ', ''])}${(lines[at] ?? '').trimStart()}`; break;
    case 5: lines.splice(at, 0, random.pick(['---', '...', '%YAML 1.1', '# c', '? ', ': ', '- x'])); break;
    case 6: return lines.join('\n').slice(0, random.int(text.length));
    case 7: {
      const bytes = Buffer.from(text);
      for (let n = random.int(6) + 1; n > 0; n--) bytes[random.int(bytes.length)] = random.int(256);
      return bytes.toString('latin1');
    }
    default: lines[at] = `${'  '.repeat(random.int(4))}${random.pick(['a', 'b'])}: &r [*r]`;
  }
  return lines.join('\n');
}

const SOURCE = { hostPath: '/nowhere/tool.sh', size: 10, mode: 0o755, sha256: 'b'.repeat(64) };

function planRecipe(recipe: Recipe, facts: ImageFacts): void {
  if (recipe.cluster) {
    listClusterNodes(recipe);
    return;
  }
  buildPlan({ ...recipe, kubernetes: undefined, images: [] }, facts, {
    instanceId: 'fuzz', pikubeVersion: '0.0.0', recipeSha256: 'c'.repeat(64), baseInput: { role: 'base', name: 'base.img', sha256: 'd'.repeat(64) },
    builtAt: '2026-01-01T00:00:00Z', overlay: [], sources: new Map(recipe.files.flatMap((file, i) => (file.source ? [[i, SOURCE] as const] : []))), keepHostKeysScript: SOURCE,
    ...(recipe.user?.password ? { passwordHash: '$6$salt$hash' } : {}),
  });
}

async function seedRecipes(): Promise<Array<Record<string, unknown>>> {
  const names = (await readdir(EXAMPLES)).filter((name) => name.endsWith('.yaml')).sort();
  const examples = await Promise.all(names.map(async (name) => parse(await readFile(new URL(name, EXAMPLES), 'utf8')) as Record<string, unknown>));
  return [FULL, ...examples];
}

// Each case: a valid recipe, mutated in data and/or text, through the config loader and, when it passes, the planner.
test('recipe fuzzer: mutated recipes are refused as recipe errors or planned, never crash', async (t) => {
  const seed = fuzzSeed(14_2026);
  const cases = fuzzCases(400);
  const seeds = await seedRecipes();
  const armhf = await makeBase(t, { sizeMiB: 100, bootMiB: 40 });
  const arm64 = await makeBase(t, { arch: 'arm64', sizeMiB: 100, bootMiB: 40 });
  const facts = [await readImageFacts(armhf.base), await readImageFacts(arm64.base)];
  const outcomes = { valid: 0, refused: 0 };
  const failures: string[] = [];
  for (let i = 0; i < cases; i++) {
    const caseSeed = (seed + i) >>> 0;
    const random = makeRandom(caseSeed);
    const data = structuredClone(random.pick(seeds));
    for (let n = random.int(4); n > 0; n--) mutateData(data, random);
    let text = stringify(data);
    if (random.chance(0.6)) for (let n = random.int(3) + 1; n > 0; n--) text = mutateText(text, random);
    try {
      const recipe = parseRecipe(text, 'fuzz.yaml');
      planRecipe(recipe, random.pick(facts));
      outcomes.valid++;
    } catch (error) {
      if (error instanceof UserError && (error.message.startsWith('fuzz.yaml has ') || !error.message.includes('fuzz.yaml'))) {
        outcomes.refused++;
        continue;
      }
      failures.push(`replay: PIKUBE_FUZZ_SEED=${caseSeed} PIKUBE_FUZZ_CASES=1 (exit ${getExitCode(error)}) ${error instanceof Error ? error.stack : String(error)}\n--- recipe ---\n${text.slice(0, 2000)}`);
      if (failures.length >= 5) break;
    }
  }
  t.log(`seed ${seed}: ${cases} cases, ${outcomes.valid} valid and planned, ${outcomes.refused} refused as recipe errors`);
  t.deepEqual(failures, [], `seed ${seed}`);
  if (cases >= 100) t.true(outcomes.valid > 0 && outcomes.refused > 0, 'the mutations reach both outcomes');
});

// A few mutated recipes through the real CLI (`pikube plan` on a real base): exit 0 or 1, never 70.
test('recipe fuzzer through the CLI: plan exits 0 or 1 with a message, never 70', async (t) => {
  const seed = fuzzSeed(14_2026) ^ 0x5eed;
  const cases = Math.max(1, Math.round(fuzzCases(400) / 100));
  const { dir } = await makeBase(t, { sizeMiB: 100, bootMiB: 40 });
  await writeFile(join(dir, 'tool.sh'), '#!/bin/sh\necho tool\n');
  const failures: string[] = [];
  for (let i = 0; i < cases; i++) {
    const caseSeed = (seed + i) >>> 0;
    const random = makeRandom(caseSeed);
    const data = structuredClone({ ...FULL, base: 'base.img' }) as Record<string, unknown>;
    for (let n = random.int(3) + 1; n > 0; n--) mutateData(data, random);
    let text = stringify(data);
    if (random.chance(0.5)) text = mutateText(text, random);
    await writeFile(join(dir, 'pikube.yaml'), text);
    const result = await runCli(['plan', '--offline', '-c', 'pikube.yaml'], { cwd: dir, env: { PIKUBE_CACHE: join(dir, 'cache') } });
    if (result.exitCode === EXIT.internal || ![0, 1].includes(result.exitCode) || (result.exitCode === 1 && !/pikube\.yaml|error/i.test(result.stderr))) {
      failures.push(`replay: PIKUBE_FUZZ_SEED=${caseSeed} (exit ${result.exitCode}) ${result.stderr.slice(0, 1500)}\n--- recipe ---\n${text.slice(0, 1500)}`);
    }
  }
  t.deepEqual(failures, [], `seed ${seed}`);
});
