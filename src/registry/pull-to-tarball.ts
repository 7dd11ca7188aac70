import { writeImageTarball, type WrittenTarball } from './image-tarball.ts';
import { pullImage, type PulledImage, type PullOptions } from './pull-image.ts';

// One image for one platform, from its registry (or the cache) into a tarball ctr, k3s and docker load accept:
// what `pikube pull` writes and what a build places on the card.
export async function pullToTarball(reference: string, destPath: string, options: PullOptions): Promise<{ pulled: PulledImage; written: WrittenTarball }> {
  const pulled = await pullImage(reference, options);
  const written = await writeImageTarball(pulled, destPath, options.signal ? { signal: options.signal } : {});
  return { pulled, written };
}
