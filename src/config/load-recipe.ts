import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, type Document, type LineCounter } from 'yaml';
import { UserError } from '../errors.ts';
import { describeIssues } from './describe-issues.ts';
import { readYaml } from './read-yaml.ts';
import { KNOWN_KEYS, recipeSchema, type Recipe } from './schema.ts';

export interface LoadedRecipe {
  recipe: Recipe;
  // The folder relative paths in the recipe are read from.
  directory: string;
  path: string;
  text: string;
}

// Reads and validates a recipe, reporting every problem at once with its YAML path and line.
export async function loadRecipe(path: string): Promise<LoadedRecipe> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read the recipe ${path}${code === 'ENOENT' ? ': no such file' : `: ${(error as Error).message}`}`,
      'create pikube.yaml (see examples/ and the README), or point at one with -c FILE');
  }
  return { recipe: parseRecipe(text, path), directory: dirname(resolve(path)), path: resolve(path), text };
}

// Validation is separate from reading so tests and `plan` can check recipe text directly.
export function parseRecipe(text: string, name = 'pikube.yaml'): Recipe {
  const { document, lineCounter, data, problems } = readYaml(text);
  if (problems.length > 0) throw recipeError(name, problems);
  const result = recipeSchema.safeParse(data);
  if (result.success) return result.data;
  const described = describeIssues(result.error.issues, data, (path) => KNOWN_KEYS[keySetName(path)] ?? []).map((problem) => {
    const line = lineOf(document, lineCounter, problem.path, problem.key);
    return { line: line ?? 0, text: `${line ? `line ${line}: ` : ''}${formatPath(problem.path) || '(top level)'}: ${problem.message}` };
  });
  const unique = [...new Map(described.map((problem) => [problem.text, problem])).values()];
  throw recipeError(name, unique.sort((a, b) => a.line - b.line).map((problem) => problem.text));
}

// The KNOWN_KEYS entry of a map's path: list indexes become [] (cluster.nodes[0].network -> cluster.nodes[].network).
function keySetName(path: Array<string | number>): string {
  return path.map((segment) => (typeof segment === 'number' ? '[]' : segment)).join('.').replaceAll('.[]', '[]');
}

function lineOf(document: Document, counter: LineCounter, path: Array<string | number>, keyNode = false): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const prefix = path.slice(0, depth);
    if (keyNode && depth === path.length) {
      const parent = prefix.length > 1 ? document.getIn(prefix.slice(0, -1), true) : document.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === prefix[prefix.length - 1]);
        const range = isScalar(pair?.key) ? pair.key.range : undefined;
        if (range) return counter.linePos(range[0]).line;
      }
      continue;
    }
    const node = depth === 0 ? document.contents : document.getIn(prefix, true);
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (range) return counter.linePos(range[0]).line;
  }
  return undefined;
}

function formatPath(path: Array<string | number>): string {
  return path.map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : `${i === 0 ? '' : '.'}${segment}`)).join('');
}

function recipeError(name: string, problems: string[]): UserError {
  return new UserError(`${name} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`,
    'fix each line above; the README lists every recipe key');
}
