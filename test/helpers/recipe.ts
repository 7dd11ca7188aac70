import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

// Writes a recipe (and any overlay files it names) into a test folder; returns the recipe's path.
export async function writeRecipe(dir: string, recipe: Record<string, unknown>, overlay: Record<string, string | Buffer> = {}): Promise<string> {
  for (const [relative, content] of Object.entries(overlay)) {
    const path = join(dir, 'overlay', relative);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
  const path = join(dir, 'pikube.yaml');
  await writeFile(path, stringify(Object.keys(overlay).length > 0 ? { overlay: 'overlay', ...recipe } : recipe));
  return path;
}
