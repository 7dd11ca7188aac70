import type { Recipe } from '../config/schema.ts';
import { DEFAULT_CLUSTER_CIDR, DEFAULT_SERVICE_CIDR } from '../config/check-cluster.ts';
import { InternalError } from '../errors.ts';
import type { K3sNodeRole } from './k3s/plan-k3s.ts';
import { findNodeHost, listNodeAddresses, makeServerUrl } from './node-address.ts';
import type { KubeNodeRole } from './plan-kubernetes.ts';

export interface ClusterNode {
  hostname: string;
  role: 'server' | 'agent';
  // The recipe as this card sees it: the top-level settings with the node's hostname and network.
  recipe: Recipe;
  // The card's place in the cluster in its profile's terms (k3s config, or the static server/agent split).
  kube: KubeNodeRole;
  address?: string;
}

// Each card of a `cluster:` recipe, in the recipe's order: the first server is the one agents (and other servers)
// join, by its static address or else its mDNS name; every server's certificate names every server.
export function listClusterNodes(recipe: Recipe): ClusterNode[] {
  const cluster = recipe.cluster;
  if (!cluster) throw new InternalError('listClusterNodes called for a recipe without cluster:');
  const views = cluster.nodes.map((node) => {
    const { cluster: _omitted, ...rest } = recipe;
    const view: Recipe = { ...rest, hostname: node.hostname, ...(node.network ? { network: node.network } : {}) };
    return { node, view, addresses: listNodeAddresses(view) };
  });
  const servers = views.filter(({ node }) => node.role === 'server');
  const first = servers[0];
  if (!first) throw new InternalError('a cluster without a server passed the recipe checks');
  const join = makeServerUrl(first.view);
  const tlsSan = [...new Set(servers.flatMap(({ addresses }) => [...addresses.names, ...addresses.ips]))];
  const cidrs = {
    ...(cluster.serviceCidr === undefined || cluster.serviceCidr === DEFAULT_SERVICE_CIDR ? {} : { serviceCidr: cluster.serviceCidr }),
    ...(cluster.clusterCidr === undefined || cluster.clusterCidr === DEFAULT_CLUSTER_CIDR ? {} : { clusterCidr: cluster.clusterCidr }),
  };
  const isStatic = recipe.kubernetes?.distribution === 'static';
  return views.map(({ node, view, addresses }, index) => {
    const own = [...addresses.names, ...addresses.ips];
    let kube: KubeNodeRole;
    if (isStatic) {
      const peers = views.flatMap((peer, i) => (i === index ? [] : [{ index: i, host: findNodeHost(peer.view) }]));
      kube = { distribution: 'static', role: node.role, server: join, tlsSan: node.role === 'server' ? [...own, ...tlsSan.filter((n) => !own.includes(n))] : [], index, peers };
    } else {
      const isFirst = view.hostname === first.view.hostname;
      const k3s: K3sNodeRole = node.role === 'agent'
        ? { role: 'agent', server: join, tlsSan: [] }
        : { role: 'server', tlsSan: [...own, ...tlsSan.filter((n) => !own.includes(n))], ...cidrs,
          ...(isFirst ? (servers.length > 1 ? { clusterInit: true } : {}) : { server: join }) };
      kube = { distribution: 'k3s', ...k3s };
    }
    return { hostname: node.hostname, role: node.role, recipe: view, kube, ...(addresses.ips[0] ? { address: addresses.ips[0] } : {}) };
  });
}
