import type { z } from 'zod';
import { suggest } from './did-you-mean.ts';

type Issue = z.core.$ZodIssue;
type Path = Array<string | number>;

// One schema problem in words a recipe author can act on: where (the YAML path) and what is allowed.
export interface Problem {
  path: Path;
  message: string;
  // Set for an unknown key: the problem's line is the key's, not its value's.
  key?: boolean;
}

// Keys people write for a known key that are too far from it for a spelling suggestion.
const SYNONYMS: Record<string, string> = { url: 'source', file: 'source', path: 'source', checksum: 'sha256', hash: 'sha256' };

// Turns zod's issues into problems: a union reports the errors of the alternative the value's type matches (or
// every alternative it could be), an enum names what is allowed and the nearest one, a wrong type names what was
// expected and what was given, an unknown key suggests the known one.
export function describeIssues(issues: readonly Issue[], data: unknown, knownKeys: (path: Path) => readonly string[], prefix: Path = []): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path.map((segment) => (typeof segment === 'symbol' ? String(segment) : segment))];
    const value = valueAt(data, path);
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) {
          const known = knownKeys(path);
          const guess = suggest(key, known) ?? (known.includes(SYNONYMS[key] ?? '') ? SYNONYMS[key] : undefined);
          problems.push({ path: [...path, key], key: true, message: `unknown key${guess ? ` (did you mean "${guess}"?)` : ''}; allowed here: ${known.join(', ')}` });
        }
        break;
      case 'invalid_union': {
        const matching = issue.errors.filter((branch) => !branch.some((inner) => inner.path.length === 0 && inner.code === 'invalid_type'));
        const best = matching.sort((a, b) => a.length - b.length)[0];
        if (best && value !== undefined) problems.push(...describeIssues(best, data, knownKeys, path));
        else problems.push({ path, message: value === undefined ? `is required: ${issue.message}` : `${issue.message} (got ${describeValue(value)})` });
        break;
      }
      case 'invalid_value': {
        const allowed = issue.values.map((v) => String(v));
        const guess = typeof value === 'string' ? suggest(value, allowed) : undefined;
        problems.push({ path, message: `${describeValue(value)} is not allowed here; allowed: ${allowed.join(', ')}${guess ? ` (did you mean "${guess}"?)` : ''}` });
        break;
      }
      case 'invalid_type':
        problems.push({ path, message: value === undefined ? `is required (${TYPE_NAMES[issue.expected] ?? issue.expected})` : `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}, not ${describeValue(value)}` });
        break;
      default:
        problems.push({ path, message: issue.message });
    }
  }
  return problems;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'a whole number', boolean: 'true or false', object: 'a map (key: value lines)', array: 'a list', record: 'a map',
};

function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return Buffer.isBuffer(value) || value instanceof Uint8Array ? 'binary data' : 'a map';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value === 'number' ? 'the number' : ''} ${String(value)}`.trim();
  return typeof value;
}

function valueAt(data: unknown, path: Path): unknown {
  let current = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}
