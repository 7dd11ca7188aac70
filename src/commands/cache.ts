import type { Command } from 'commander';
import { resolveCacheDir } from '../acquire/cache-dir.ts';
import { listCache, pruneCache } from '../acquire/cache-maintenance.ts';
import { parseAge } from '../acquire/parse-age.ts';
import { formatBytes } from '../format-bytes.ts';
import { UserError } from '../errors.ts';
import { log } from '../log.ts';
import { formatTable } from './doctor.ts';
import { COMMAND_SUMMARIES } from './command-table.ts';

interface CacheOptions {
  cache?: string;
}

// `pikube cache ls|prune`: what the download cache holds, and trimming it safely while builds run.
export function registerCacheCommand(program: Command): void {
  const cache = program
    .command('cache')
    .description(COMMAND_SUMMARIES['cache'])
    .option('--cache <dir>', 'the cache directory (default: $PIKUBE_CACHE, the checkout\'s cache/, or ~/.cache/pikube)');

  cache
    .command('ls')
    .description('list cached downloads: digest, size, last use and the URLs that served them')
    .option('--json', 'print the listing as JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const cacheDir = resolveCacheDir((command.optsWithGlobals() as CacheOptions).cache);
      const listing = await listCache(cacheDir);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(listing, null, 2)}\n`);
        return;
      }
      log.info(`cache: ${cacheDir}`);
      const rows = listing.entries.map((e) => [e.sha256.slice(0, 12), formatBytes(e.size), e.lastUsed.toISOString().slice(0, 16).replace('T', ' '), `${e.urls.join(' ') || '(no URL)'}${e.locked ? ' [in use]' : ''}`]);
      for (const p of listing.partials) rows.push(['partial', formatBytes(p.size), p.modified.toISOString().slice(0, 16).replace('T', ' '), `${p.file}${p.locked ? ' [downloading]' : ''}`]);
      if (rows.length === 0) {
        log.info('the cache is empty');
        return;
      }
      const total = [...listing.entries, ...listing.partials].reduce((sum, e) => sum + e.size, 0);
      process.stdout.write(formatTable([['SHA256', 'SIZE', 'LAST USED', 'URL'], ...rows]));
      log.info(`${listing.entries.length} entries, ${listing.partials.length} partial downloads, ${formatBytes(total)} in all`);
    });

  cache
    .command('prune')
    .description('remove cached downloads not used recently (never one another pikube is using)')
    .option('--older-than <age>', 'remove what was last used longer ago than this: 30d, 12h, 2w (a bare number means days)')
    .option('--all', 'remove every entry not in use')
    .option('--dry-run', 'only print what would be removed')
    .action(async (options: { olderThan?: string; all?: boolean; dryRun?: boolean }, command: Command) => {
      if (!options.all && !options.olderThan) throw new UserError('cache prune needs --older-than <age> or --all', 'e.g. `pikube cache prune --older-than 30d`');
      if (options.all && options.olderThan) throw new UserError('give either --older-than or --all, not both');
      const cacheDir = resolveCacheDir((command.optsWithGlobals() as CacheOptions).cache);
      const result = await pruneCache(cacheDir, { all: options.all, olderThan: options.olderThan ? parseAge(options.olderThan) : undefined, dryRun: options.dryRun });
      for (const removed of result.removed) process.stdout.write(`${options.dryRun ? 'would remove' : 'removed'} ${removed.sha256 ?? removed.file} (${formatBytes(removed.size)})\n`);
      log.info(`${options.dryRun ? 'would free' : 'freed'} ${formatBytes(result.freedBytes)} in ${cacheDir}${result.skippedLocked ? `; ${result.skippedLocked} entries in use by another pikube were kept` : ''}`);
    });
}
