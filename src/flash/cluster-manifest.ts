import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.ts';

// The file that marks a folder as a pikube cluster build and lists its cards in flashing order.
export const CLUSTER_MANIFEST = 'cluster.json';

const cardSchema = z.object({
  hostname: z.string().min(1),
  role: z.enum(['server', 'agent']),
  address: z.string().optional(),
  // File names inside the cluster folder.
  image: z.string().min(1),
  bmap: z.string().min(1),
  size: z.number().int().nonnegative(),
  // Bytes the block map lists: what flashing this card writes.
  mappedBytes: z.number().int().nonnegative(),
  // sha256 of the card's plan: the next build keeps the card while it stays the same.
  digest: z.string(),
  status: z.enum(['written', 'unchanged', 'stale']),
});

const manifestSchema = z.object({
  cluster: z.object({ name: z.string().min(1), id: z.string().min(1) }),
  server: z.string(),
  nodes: z.array(cardSchema).min(1),
});

// One card of a cluster as cluster.json records it.
export type ClusterCard = z.infer<typeof cardSchema>;

// cluster.json: written by `pikube build` for a `cluster:` recipe, read by the next build and by `flash --cluster`.
export type ClusterManifest = z.infer<typeof manifestSchema>;

// How a card is named in progress lines and questions, the same when building and flashing: "pi-2 (agent, 192.168.1.51)".
export function formatCardLabel(card: { hostname: string; role: string; address?: string | undefined }): string {
  return `${card.hostname} (${card.role}${card.address ? `, ${card.address}` : ''})`;
}

// Writes DIR/cluster.json (checked against the schema first, so build can never write what flash would refuse).
export async function writeClusterManifest(dir: string, manifest: ClusterManifest): Promise<void> {
  await writeFile(join(dir, CLUSTER_MANIFEST), `${JSON.stringify(manifestSchema.parse(manifest), null, 2)}\n`);
}

// Reads DIR/cluster.json; a folder without one, or with one pikube cannot read, is named with the fix.
export async function readClusterManifest(dir: string): Promise<ClusterManifest> {
  const path = join(dir, CLUSTER_MANIFEST);
  const text = await readFile(path, 'utf8').catch(() => {
    throw new UserError(`${dir} is not a cluster built by pikube (it has no ${CLUSTER_MANIFEST})`, 'build one with `pikube build` from a recipe with `cluster:`, or flash a single image without --cluster');
  });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path} is damaged (${(error as Error).message})`, 'build the cluster again with `pikube build`', { cause: error });
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) {
    throw new UserError(`${path} lists no cards pikube can read (${z.prettifyError(parsed.error).replaceAll('\n', ' ')})`, 'build the cluster again with `pikube build`');
  }
  return parsed.data;
}
