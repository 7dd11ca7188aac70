import { join } from 'node:path';
import { resolveStaticRelease } from '../acquire/static-release.ts';
import type { Recipe } from '../config/schema.ts';
import { API_PORT, listNodeAddresses, makeServerUrl } from '../kube/node-address.ts';
import { generateKubeadmPki } from '../kube/pki/kubeadm-pki.ts';
import { generateBootstrapToken } from '../kube/static/bootstrap-token.ts';
import { makeStaticNetwork } from '../kube/static/cluster-settings.ts';
import type { StaticNodeRole, StaticShared } from '../kube/static/plan-static.ts';
import type { ImageFacts } from '../plan/types.ts';
import { acquireStaticBinaries } from './acquire-static.ts';
import type { KubernetesContext } from './gather-kubernetes.ts';
import { pullImageTarballs } from './pull-images.ts';

const DAY_MS = 24 * 60 * 60 * 1000;
const IP = /^\d+\.\d+\.\d+\.\d+$/;

// Gathers the static profile's inputs once per build: upstream kubelet + containerd, every image, kubeadm's PKI
// for the server (`cluster.server` in a cluster, else the recipe's own node) and, for a cluster, a bootstrap token.
export async function gatherStatic(recipe: Recipe, facts: ImageFacts, context: KubernetesContext, cluster?: { recipe: Recipe; role: StaticNodeRole }): Promise<Omit<StaticShared, 'apps'>> {
  const kubernetes = recipe.kubernetes!;
  const release = resolveStaticRelease(kubernetes.version, facts.architecture);
  const serverRecipe = cluster?.recipe ?? recipe;
  const node = serverRecipe.hostname!;
  const binaries = await acquireStaticBinaries(release, join(context.workDir, 'static-binaries'), context.acquire);
  const clusterImages = Object.values(release.images);
  const { tarballs, inputs } = await pullImageTarballs([...clusterImages, ...recipe.images.filter((r) => !clusterImages.includes(r))], facts.architecture, context.workDir, context.acquire);
  const own = listNodeAddresses(serverRecipe);
  const sans = cluster ? cluster.role.tlsSan : [...own.names, ...own.ips];
  const advertiseIp = own.ips[0];
  const localServer = `https://${advertiseIp ?? '127.0.0.1'}:${API_PORT}`;
  const externalServer = cluster?.role.server ?? makeServerUrl(serverRecipe);
  const cidrs = { ...(recipe.cluster?.serviceCidr ? { serviceCidr: recipe.cluster.serviceCidr } : {}), ...(recipe.cluster?.clusterCidr ? { clusterCidr: recipe.cluster.clusterCidr } : {}) };
  const request = {
    node, apiNames: sans.filter((san) => !IP.test(san)), apiIps: sans.filter((san) => IP.test(san)), serviceIp: makeStaticNetwork(cidrs).serviceIp,
    localServer, externalServer,
  };
  const pkiRequest = JSON.stringify(request);
  const kept = context.secrets?.static;
  const pki = kept?.pkiRequest === pkiRequest
    ? kept.pki
    : await generateKubeadmPki({ ...request, notBefore: new Date(context.builtAt.getTime() - DAY_MS), ...(kept?.cas ? { cas: kept.cas } : {}) });
  return {
    release, binaries, pki, cidrs,
    images: tarballs.map(({ reference, file: tarball }, i) => ({ reference, file: tarball, input: inputs[i] })),
    server: { node, ...(advertiseIp ? { advertiseIp } : {}), localServer, externalServer },
    ...(cluster ? { bootstrap: kept?.bootstrap ?? generateBootstrapToken() } : {}),
    pkiRequest,
    builtAt: context.builtAt,
  };
}

