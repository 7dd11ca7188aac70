import { join } from 'node:path';
import type { AcquireOptions } from '../acquire/acquire-options.ts';
import { safeName } from '../kube/k3s/plan-k3s.ts';
import type { PulledTarball } from '../kube/plan-kubernetes.ts';
import type { BuildInput } from '../plan/types.ts';
import { platformForArchitecture } from '../registry/platform.ts';
import { pullToTarball } from '../registry/pull-to-tarball.ts';

// Pulls the recipe's `images:` for the image's own architecture into tarballs in `workDir`, which the
// profile places where its runtime loads them at first boot.
export async function pullImageTarballs(references: readonly string[], architecture: string, workDir: string,
  options: AcquireOptions & { registryMirror?: string }): Promise<{ tarballs: PulledTarball[]; inputs: BuildInput[] }> {
  const platform = platformForArchitecture(architecture);
  const tarballs: PulledTarball[] = [];
  const inputs: BuildInput[] = [];
  for (const reference of references) {
    const path = join(workDir, `${safeName(reference)}.tar`);
    const { pulled, written: { sha256, size } } = await pullToTarball(reference, path, {
      platform, cacheDir: options.cacheDir, offline: options.offline, signal: options.signal,
      ...(options.retries === undefined ? {} : { retries: options.retries }),
      ...(options.retryDelayMs === undefined ? {} : { retryDelayMs: options.retryDelayMs }),
      ...(options.registryMirror ? { registryMirror: options.registryMirror } : {}),
    });
    tarballs.push({ reference, file: { hostPath: path, size, mode: 0o644, sha256 } });
    inputs.push({ role: 'image', name: pulled.name, sha256: pulled.manifest.digest.replace(/^sha256:/, '') });
  }
  return { tarballs, inputs };
}
