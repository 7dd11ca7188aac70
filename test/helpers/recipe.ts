import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

// A real ed25519 public key (its private half was discarded) for recipes that need an authorized key.
export const TEST_SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF8Sdb23RE19ZFxhlMVNnmvEN3RDqi9RdHX0619fHTDm test@host';

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
