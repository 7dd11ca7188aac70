import { posix } from 'node:path';
import type { OverlayItem, LocalFile } from '../acquire/local-inputs.ts';
import type { Recipe } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { planBuildRecord } from './build-record.ts';
import { planGrowth } from './growth.ts';
import { planIdentity, type IdentityInputs } from './identity-entries.ts';
import { planCmdline } from './kernel-cmdline.ts';
import { mergeEntries } from './merge-entries.ts';
import { resolveOwner } from './resolve-owner.ts';
import type { BuildInput, ImageFacts, Plan, PlanEntry } from './types.ts';
import { makeHostContent } from './entries.ts';

// Everything planning needs that had to be read from disk or computed with a tool, gathered beforehand.
export interface PlanInputs extends IdentityInputs {
  pikubeVersion: string;
  recipeSha256: string;
  baseInput: BuildInput;
  builtAt: string;
  overlay: OverlayItem[];
  // Recipe `files[i].source`, already read and hashed, by index.
  sources: Map<number, LocalFile>;
  // Entries from other generators (Kubernetes profiles), already in plan form.
  extraEntries?: PlanEntry[];
  extraInputs?: BuildInput[];
}

// A pure function of the recipe and the facts: the same inputs always give the same plan.
export function buildPlan(recipe: Recipe, facts: ImageFacts, inputs: PlanInputs): Plan {
  const entries: PlanEntry[] = [
    ...overlayEntries(inputs.overlay),
    ...planIdentity(recipe, facts, inputs),
    ...planCmdline(recipe, facts),
    ...(inputs.extraEntries ?? []),
    ...recipeFileEntries(recipe, facts, inputs.sources),
  ];
  const buildInputs: BuildInput[] = [
    inputs.baseInput,
    ...inputs.overlay.flatMap((item) => (item.kind === 'file' ? [{ role: 'overlay', name: item.relative, sha256: item.sha256 }] : [])),
    ...[...inputs.sources.entries()].map(([i, file]) => ({ role: `files[${i}]`, name: posix.basename(file.hostPath), sha256: file.sha256 })),
    ...(inputs.extraInputs ?? []),
  ];
  entries.push(planBuildRecord({
    pikube: inputs.pikubeVersion,
    builtAt: inputs.builtAt,
    recipeSha256: inputs.recipeSha256,
    base: { diskId: facts.table.id, architecture: facts.architecture },
    inputs: buildInputs,
    identity: {
      ...(recipe.hostname ? { hostname: recipe.hostname } : {}),
      ...(recipe.user ? { user: recipe.user.name } : {}),
      sshAuthorizedKeys: recipe.user?.sshAuthorizedKeys.length ?? 0,
      ...(recipe.network ? { network: { interface: recipe.network.interface, address: recipe.network.address, gateway: recipe.network.gateway } } : {}),
    },
  }));
  const merged = mergeEntries(entries);
  const { growth, payload } = planGrowth(merged, facts);
  return {
    pikubeVersion: inputs.pikubeVersion,
    recipeSha256: inputs.recipeSha256,
    base: { path: facts.path, label: facts.table.label, diskId: facts.table.id, architecture: facts.architecture },
    growth,
    entries: merged,
    inputs: buildInputs,
    payloadBytes: payload,
  };
}

function overlayEntries(items: readonly OverlayItem[]): PlanEntry[] {
  return items.flatMap((item): PlanEntry[] => {
    if (item.relative === 'boot') return [];
    const inBoot = item.relative.startsWith('boot/');
    const partition = inBoot ? 'boot' : 'root';
    const path = `/${inBoot ? item.relative.slice('boot/'.length) : item.relative}`;
    const origin = `overlay ${item.relative}`;
    if (item.kind === 'directory') return [{ type: 'directory', partition, path, mode: partition === 'boot' ? 0o755 : item.mode, uid: 0, gid: 0, origin, ensure: true }];
    if (item.kind === 'symlink') {
      if (partition === 'boot') throw bootSymlinkError(item.relative);
      return [{ type: 'symlink', partition, path, target: item.target, uid: 0, gid: 0, origin }];
    }
    return [{ type: 'file', partition, path, mode: partition === 'boot' ? 0o644 : item.mode, uid: 0, gid: 0,
      content: makeHostContent(item), origin }];
  });
}

function bootSymlinkError(relative: string): UserError {
  return new UserError(`overlay ${relative}: the boot partition is FAT, which has no symlinks`, 'replace the symlink under boot/ with a copy of the file');
}

function recipeFileEntries(recipe: Recipe, facts: ImageFacts, sources: Map<number, LocalFile>): PlanEntry[] {
  return recipe.files.map((file, i): PlanEntry => {
    const origin = `files[${i}]`;
    const { uid, gid } = resolveOwner(file.owner, facts, origin);
    if (file.symlink !== undefined) return { type: 'symlink', partition: file.partition, path: file.path, target: file.symlink, uid, gid, origin };
    const source = sources.get(i);
    const content = source
      ? { kind: 'host' as const, path: source.hostPath, size: source.size, sha256: source.sha256 }
      : { kind: 'text' as const, text: file.content ?? '' };
    const mode = file.mode ?? (source ? (source.mode & 0o111 ? 0o755 : 0o644) : 0o644);
    return { type: 'file', partition: file.partition, path: file.path, mode, uid, gid, content, origin };
  });
}
