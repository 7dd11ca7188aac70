import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

// The pipeline from the top down: a folder may import its own layer and those below it, never one above.
// Data flows config -> acquire -> gather -> plan (plan, kube) -> apply (image) -> flash; commands parse flags and
// call the pipeline, which drives every stage (gather, plan, apply, boot test) and so sits above them all.
const LAYERS: Record<string, number> = {
  'cli.ts': 10,
  commands: 9,
  pipeline: 8,
  flash: 7,
  'boot-test': 7,
  gather: 6,
  image: 5,
  kube: 5,
  plan: 4,
  config: 3,
  acquire: 2,
  registry: 2,
  tools: 1,
  '.': 0,
};

// What the pure plan may import: its own modules, the recipe's types, errors and formatting; no IO of any kind.
const PLAN_MAY_IMPORT = [/^\.\.?\//, /^node:path$/, /^yaml$/];
const IO_MODULES = /^(node:)?(fs|fs\/promises|child_process|net|http|https|os|worker_threads)$|^(execa|got)$/;

interface Import {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

async function listSources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

async function readImports(): Promise<Import[]> {
  const imports: Import[] = [];
  for (const file of await listSources(src)) {
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'([^']+)'/gm)) {
      imports.push({ file, specifier: match[2] as string, typeOnly: Boolean(match[1]) });
    }
    for (const match of text.matchAll(/import\('([^']+)'\)/g)) imports.push({ file, specifier: match[1] as string, typeOnly: false });
  }
  return imports;
}

function layerOf(path: string): string {
  const top = relative(src, path).split('/')[0] as string;
  return top.endsWith('.ts') && top !== 'cli.ts' ? '.' : top;
}

test('no layer imports one above it (type-only imports included)', async (t) => {
  const imports = await readImports();
  t.true(imports.length > 200, 'the sources were read');
  const upward = imports.filter((i) => i.specifier.startsWith('.')).flatMap((i) => {
    const from = layerOf(i.file);
    const to = layerOf(join(dirname(i.file), i.specifier));
    t.true(from in LAYERS, `${from} is a known layer`);
    t.true(to in LAYERS, `${to} is a known layer`);
    return (LAYERS[to] as number) > (LAYERS[from] as number) ? [`${relative(src, i.file)} imports ${i.specifier} (${from} -> ${to})`] : [];
  });
  t.deepEqual(upward, []);
});

test('the plan is pure: it imports no IO, no tool and no layer that does IO', async (t) => {
  const imports = (await readImports()).filter((i) => layerOf(i.file) === 'plan' && !i.typeOnly);
  t.true(imports.length > 5);
  const impure = imports.filter((i) => IO_MODULES.test(i.specifier) || !PLAN_MAY_IMPORT.some((allowed) => allowed.test(i.specifier))
    || (i.specifier.startsWith('.') && !['plan', 'config', '.'].includes(layerOf(join(dirname(i.file), i.specifier)))));
  t.deepEqual(impure.map((i) => `${relative(src, i.file)} imports ${i.specifier}`), []);
});

test('the Kubernetes generators are pure: kube imports no IO, no tool and no acquire or registry value', async (t) => {
  const imports = (await readImports()).filter((i) => layerOf(i.file) === 'kube' && !i.typeOnly);
  t.true(imports.length > 50, 'the kube sources were read');
  const impure = imports.filter((i) => IO_MODULES.test(i.specifier)
    || (i.specifier.startsWith('.') && ['tools', 'acquire', 'registry', 'gather', 'image'].includes(layerOf(join(dirname(i.file), i.specifier)))));
  t.deepEqual(impure.map((i) => `${relative(src, i.file)} imports ${i.specifier}`), []);
});
