import { readFile } from 'node:fs/promises';
import test from 'ava';
import type { z } from 'zod';
import { recipeSchema } from '../../src/config/schema.ts';

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; element?: z.ZodType; options?: z.ZodType[]; in?: z.ZodType; out?: z.ZodType };
const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

function takesPlainValue(schema: z.ZodType): boolean {
  const def = defOf(schema);
  if (['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch'].includes(def.type)) return takesPlainValue(def.innerType as z.ZodType);
  return def.type === 'union' && (def.options ?? []).some((option) => !['object', 'array'].includes(defOf(option).type));
}

// Every key the schema accepts (the leaves, and maps that may also be a plain value), as the reference writes it: `user.name`, `files[].mode`, `cluster.nodes[].role`.
function listKeys(schema: z.ZodType, prefix: string): string[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional': case 'default': case 'nullable': case 'prefault': case 'readonly': case 'catch':
      return listKeys(def.innerType as z.ZodType, prefix);
    case 'pipe':
      return listKeys(def.in as z.ZodType, prefix);
    case 'array':
      return listKeys(def.element as z.ZodType, `${prefix}[]`);
    case 'union':
      return [...new Set((def.options ?? []).flatMap((option) => listKeys(option, prefix)))];
    case 'object':
      return Object.entries(def.shape ?? {}).flatMap(([key, value]) => {
        const path = prefix ? `${prefix}.${key}` : key;
        const inner = listKeys(value, path);
        // A map's own name counts only where it may also be a plain value (`base: hypriot` or `base: {source: …}`).
        return inner.length === 0 || takesPlainValue(value) ? [path, ...inner] : inner;
      });
    default:
      return [];
  }
}

test('the recipe reference (docs/recipe.md) names every key the schema accepts', async (t) => {
  const reference = await readFile(new URL('../../docs/recipe.md', import.meta.url), 'utf8');
  const keys = listKeys(recipeSchema, '');
  t.true(keys.includes('user.sshAuthorizedKeys') && keys.includes('cluster.nodes[].role'), 'the walk reaches nested keys');
  t.deepEqual(keys.filter((key) => !reference.includes(`\`${key}\``)), []);
});
