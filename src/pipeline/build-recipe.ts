import { UserError } from '../errors.ts';
import type { ExtBackend } from '../image/backend.ts';
import { loadRecipe } from '../config/load-recipe.ts';
import type { ClusterBuildOptions } from './build-cluster.ts';
import type { ImageBuildOptions } from './build-image.ts';
import type { BuildFlags } from './load-build.ts';

export interface BuildOptions extends BuildFlags, ImageBuildOptions, ClusterBuildOptions {
  // How ext4 is edited: debugfs (no root) or the kernel driver through a loop device (root).
  backend: 'debugfs' | 'mount';
}

// `pikube build`: the recipe read (its problems come first, before any module or tool they do not need), the host
// tools checked and the base acquired (config -> acquire), then the single-card pipeline (buildImage) or, for a
// `cluster:` recipe, the cluster pipeline (buildCluster), each loaded only once the recipe says which.
export async function buildRecipe(options: BuildOptions): Promise<void> {
  const loaded = await loadRecipe(options.config);
  const [{ ensureTools }, { loadBuild }] = await Promise.all([import('../tools/check-tools.ts'), import('./load-build.ts')]);
  // Both emulators (one Debian package): which one boots depends on the image, known only once it is built.
  if (options.bootTest) await ensureTools('boot-test', { include: ['qemu-system-aarch64', 'qemu-system-arm'] });
  await ensureTools('build', { include: options.backend === 'mount' ? ['losetup', 'mount', 'umount'] : [] });
  const session = await loadBuild(options, loaded);
  const backend = await loadBackend(options.backend);
  if (!session.loaded.recipe.cluster && (options.only || options.secrets)) {
    throw new UserError(`${options.only ? '--only' : '--secrets'} is for a recipe with \`cluster:\``, 'a single-card recipe builds one image: leave the flag out');
  }
  if (session.loaded.recipe.cluster) {
    if (options.bootTest) throw new UserError('--boot-test boots one image, and a cluster build makes several', 'build the cluster, then run `pikube boot-test DIR/HOSTNAME.img` for the card you want to check');
    await ensureTools('build', { include: ['ssh-keygen'] });
    await (await import('./build-cluster.ts')).buildCluster(session, options, backend);
    return;
  }
  await (await import('./build-image.ts')).buildImage(session, options, backend);
}

async function loadBackend(name: 'debugfs' | 'mount'): Promise<ExtBackend> {
  return name === 'mount' ? (await import('../image/mount-backend.ts')).mountBackend : (await import('../image/debugfs-backend.ts')).debugfsBackend;
}
