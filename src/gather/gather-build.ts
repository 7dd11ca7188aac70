import { createHash } from 'node:crypto';
import type { AcquiredBase } from '../acquire/acquire-base.ts';
import type { LocalFile, OverlayItem } from '../acquire/local-inputs.ts';
import { readOverlayScripts, type OverlayScripts } from '../acquire/overlay-scripts.ts';
import { readImageFacts } from '../image/read-facts.ts';
import { listClusterNodes } from '../kube/cluster-nodes.ts';
import type { KubernetesShared } from '../kube/plan-kubernetes.ts';
import type { K3sPki } from '../kube/pki/k3s-pki.ts';
import type { StaticSecrets } from '../kube/static/plan-static.ts';
import { log } from '../log.ts';
import type { ImageFacts } from '../plan/types.ts';
import { hashPassword } from '../tools/openssl.ts';
import { describeBase, type BuildSession } from './build-session.ts';
import { deriveSecretToken } from './cluster-secrets.ts';
import { gatherKubernetes } from './gather-kubernetes.ts';

// What every card of a build shares, read or computed once: facts of the unpacked base, local inputs, the
// password hash and the Kubernetes profile's artifacts and PKI.
export interface GatheredBuild {
  facts: ImageFacts;
  overlay: OverlayItem[];
  sources: Map<number, LocalFile>;
  recipeSha256: string;
  passwordHash?: string;
  kubernetes?: KubernetesShared;
  // pikube's own shell scripts from its overlay/ folder, read and hashed for every card's plan.
  scripts: OverlayScripts;
  base: AcquiredBase;
  // A cluster's kept seed: instance ids and the password salt come from it, so rebuilt cards stay the same.
  seed?: string;
}

// What a cluster build brings from its kept secrets folder.
export interface KeptSecrets {
  seed: string;
  k3s?: K3sPki;
  static?: StaticSecrets;
}

// acquire -> gather: reads the facts of the unpacked base at `image` and gathers every input the recipe names
// (local files, Kubernetes artifacts, images, a fresh PKI) into `workDir`.
export async function gatherBuild(session: BuildSession, image: string, workDir: string, kept?: KeptSecrets): Promise<GatheredBuild> {
  const { recipe, directory, text } = session.loaded;
  const facts = { ...(await readImageFacts(image, describeBase(session))), path: session.archivePath };
  const { overlay, sources } = await session.inputs;
  const scripts = await readOverlayScripts();
  const recipeSha256 = createHash('sha256').update(text).digest('hex');
  const { clock } = session;
  const passwordHash = recipe.user?.passwordHash ?? (recipe.user?.password
    ? await hashPassword(recipe.user.password, kept ? deriveSecretToken(kept, 'salt', 16) : clock.token(`salt:${recipeSha256}`, 16))
    : undefined);
  if (facts.cloudInit && (recipe.hostname || recipe.cluster) && !recipe.user) {
    log.warn('the recipe sets hostname but no user: the base\'s cloud-init user-data is replaced, so define `user:` to keep a login user');
  }
  let kubernetes: KubernetesShared | undefined;
  if (recipe.kubernetes) {
    const server = recipe.cluster ? listClusterNodes(recipe).find((node) => node.role === 'server') : undefined;
    kubernetes = await gatherKubernetes(recipe, facts, {
      acquire: session.acquire, workDir, builtAt: new Date(clock.epochSeconds * 1000), recipeDir: directory,
      ...(server ? { clusterServer: { recipe: server.recipe, role: server.kube } } : {}),
      ...(kept ? { secrets: { ...(kept.k3s ? { k3s: kept.k3s } : {}), ...(kept.static ? { static: kept.static } : {}) } } : {}),
    });
  }
  return { facts, overlay, sources, recipeSha256, scripts, ...(passwordHash ? { passwordHash } : {}), ...(kubernetes ? { kubernetes } : {}), base: await session.base, ...(kept ? { seed: kept.seed } : {}) };
}
