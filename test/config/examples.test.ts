import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { loadRecipe } from '../../src/config/load-recipe.ts';

const examples = fileURLToPath(new URL('../../examples/', import.meta.url));

test('every example recipe is valid', async (t) => {
  const names = (await readdir(examples)).filter((name) => name.endsWith('.yaml'));
  t.true(names.length >= 3);
  for (const name of names) {
    const { recipe } = await loadRecipe(`${examples}${name}`);
    t.truthy(recipe.base, name);
  }
});
