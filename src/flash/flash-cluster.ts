import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { log } from '../log.ts';
import { canAsk, terminalAsker } from './ask-user.ts';
import { formatCardLabel, readClusterManifest } from './cluster-manifest.ts';
import { checkTargetHoldsNot } from './check-target-holds.ts';
import { flashImage, type FlashOptions, type FlashSummary } from './flash-image.ts';

export interface FlashClusterOptions extends Omit<FlashOptions, 'imagePath' | 'bmapPath'> {
  // A folder written by `pikube build` from a `cluster:` recipe.
  dir: string;
  // Start at this card (after an interrupted run), skipping the ones before it.
  from?: string;
}

// `pikube flash --cluster DIR`: the cards of a cluster one after another, in the recipe's order, asking for each
// card before writing it, with every check of a single flash (system drives refused, size, confirmation, verify).
export async function flashCluster(options: FlashClusterOptions): Promise<FlashSummary[]> {
  const { nodes } = await readClusterManifest(options.dir);
  const start = options.from === undefined ? 0 : nodes.findIndex((node) => node.hostname === options.from);
  if (start < 0) throw new UserError(`--from ${options.from}: no such card in ${options.dir}`, `use one of: ${nodes.map((n) => n.hostname).join(', ')}`);
  for (const node of nodes) {
    await access(join(options.dir, node.image)).catch(() => {
      throw new UserError(`${join(options.dir, node.image)} (the image for ${node.hostname}) is missing`, 'build the cluster again with `pikube build`');
    });
  }
  const protect = [{ path: options.dir, role: 'the cluster folder' }, ...nodes.map((other) => ({ path: join(options.dir, other.image), role: `the image of ${other.hostname}` }))];
  if (options.device) await checkTargetHoldsNot(options.device, protect);
  const asker = options.asker ?? terminalAsker;
  if (options.asker === undefined && !canAsk()) {
    throw new UserError('flashing a cluster asks for each card in turn, and nobody is at a terminal to answer', 'run `pikube flash --cluster DIR` at a terminal, or flash each DIR/HOSTNAME.img with `pikube flash`');
  }
  const written: FlashSummary[] = [];
  const todo = nodes.slice(start);
  for (const [i, node] of todo.entries()) {
    const label = formatCardLabel(node);
    if (!(await asker.confirm(`Insert the card for ${label}, card ${start + i + 1} of ${nodes.length}. Ready?`))) {
      throw new UserError(`stopped before ${node.hostname}${written.length ? `: ${todo.slice(0, i).map((n) => n.hostname).join(', ')} written` : ''}`,
        `continue later with: pikube flash --cluster ${options.dir} --from ${node.hostname}`);
    }
    log.step(`card ${start + i + 1}/${nodes.length}: ${label}`);
    written.push(await flashImage({ ...options, asker, imagePath: join(options.dir, node.image), protect }));
  }
  log.step(`all ${nodes.length} cards written: boot the server${nodes.filter((n) => n.role === 'server').length > 1 ? 's' : ''} first, then the agents (they retry until the server answers)`);
  return written;
}
