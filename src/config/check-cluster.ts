import type { z } from 'zod';
import type { Recipe } from './schema.ts';
import { isInNetwork, networksOverlap, parseIpv4 } from './ipv4.ts';

// k3s's own defaults, which the Pi's addresses must stay out of.
export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';
export const DEFAULT_CLUSTER_CIDR = '10.42.0.0/16';
// kubeadm's defaults, which the static profile keeps.
export const STATIC_SERVICE_CIDR = '10.96.0.0/12';
export const STATIC_CLUSTER_CIDR = '10.244.0.0/16';
// The static profile gives each node a /24 of the pod network, as the controller-manager would.
export const NODE_POD_PREFIX = 24;

type Context = z.core.$RefinementCtx<Recipe>;

// The service and pod networks a recipe's cluster runs with: its own, else the profile's defaults.
export function clusterNetworks(recipe: Pick<Recipe, 'cluster' | 'kubernetes'>): { serviceCidr: string; clusterCidr: string } {
  const isStatic = recipe.kubernetes?.distribution === 'static';
  return {
    serviceCidr: recipe.cluster?.serviceCidr ?? (isStatic ? STATIC_SERVICE_CIDR : DEFAULT_SERVICE_CIDR),
    clusterCidr: recipe.cluster?.clusterCidr ?? (isStatic ? STATIC_CLUSTER_CIDR : DEFAULT_CLUSTER_CIDR),
  };
}

// The rules that span several keys of a `cluster:` recipe (each node's own address and gateway are checked by the
// network schema, as for a single card), reported with the YAML path of the node at fault,
// so nothing is written for a cluster whose cards could not find each other.
export function checkCluster(recipe: Recipe, ctx: Context): void {
  const { cluster } = recipe;
  if (!cluster) return;
  const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
  // A node field with a problem of its own (already reported) is left out of the rules across nodes.
  const usable = (...path: Array<string | number>) => !ctx.issues.some((found) => found.code !== 'unrecognized_keys'
    && (found.path ?? []).every((segment, k) => k >= path.length || segment === path[k]));
  if (!recipe.kubernetes) issue(['cluster'], 'a cluster needs `kubernetes:` (e.g. `kubernetes: { distribution: k3s }`)');
  if (recipe.hostname !== undefined) issue(['hostname'], 'with `cluster:` each node sets its hostname under cluster.nodes: remove the top-level hostname');
  if (recipe.network !== undefined) issue(['network'], 'with `cluster:` each node sets its address under cluster.nodes[].network: remove the top-level network');
  if (!cluster.nodes.some((node, i) => usable('cluster', 'nodes', i, 'role') && node.role === 'server')) issue(['cluster', 'nodes'], 'no node has `role: server`: agents need a server to join');
  const cidrs = clusterNetworks(recipe);
  const service = parseIpv4(cidrs.serviceCidr);
  const pods = parseIpv4(cidrs.clusterCidr);
  if (networksOverlap(service, pods)) issue(['cluster', 'serviceCidr'], `overlaps clusterCidr ${cidrs.clusterCidr}`);
  if (recipe.kubernetes?.distribution === 'static') checkStaticCluster(cluster, pods.prefix, issue, (i) => usable('cluster', 'nodes', i, 'role'));
  const hostnames = new Map<string, number>();
  const addresses = new Map<number, number>();
  for (const [i, node] of cluster.nodes.entries()) {
    if (usable('cluster', 'nodes', i, 'hostname')) {
      const first = hostnames.get(node.hostname);
      if (first !== undefined) issue(['cluster', 'nodes', i, 'hostname'], `${node.hostname} is already the hostname of nodes[${first}]: every card needs its own name`);
      else hostnames.set(node.hostname, i);
    }
    if (!usable('cluster', 'nodes', i, 'network', 'address') || !node.network) continue;
    const own = parseIpv4(node.network.address);
    const at = ['cluster', 'nodes', i, 'network', 'address'];
    const taken = addresses.get(own.address);
    if (taken !== undefined) issue(at, `${node.network.address.split('/')[0]} is already the address of nodes[${taken}]`);
    else addresses.set(own.address, i);
    if (isInNetwork(own.address, service)) issue(at, `${node.network.address} lies inside the service network ${cidrs.serviceCidr}: pick an address on your LAN, or move serviceCidr`);
    if (isInNetwork(own.address, pods)) issue(at, `${node.network.address} lies inside the pod network ${cidrs.clusterCidr}: pick an address on your LAN, or move clusterCidr`);
  }
}

// The static profile runs one etcd member on one server (pikube builds no stacked etcd across servers), and each
// node's pods take one /24 of the pod network.
function checkStaticCluster(cluster: NonNullable<Recipe['cluster']>, podPrefix: number, issue: (path: Array<string | number>, message: string) => void, hasRole: (i: number) => boolean): void {
  const servers = cluster.nodes.flatMap((node, i) => (hasRole(i) && node.role === 'server' ? [i] : []));
  for (const i of servers.slice(1)) {
    issue(['cluster', 'nodes', i, 'role'], `a second server in a static cluster would need etcd peers, and pikube builds no stacked etcd across servers: keep one server (nodes[${servers[0]}]) and make this one an agent, or use \`distribution: k3s\` for several servers`);
  }
  const slots = podPrefix > NODE_POD_PREFIX ? 0 : 2 ** (NODE_POD_PREFIX - podPrefix);
  if (cluster.nodes.length > slots) {
    issue(['cluster', 'clusterCidr'], `${cluster.clusterCidr ?? STATIC_CLUSTER_CIDR} holds ${slots} /24 pod networks and the static profile needs one per node (${cluster.nodes.length}): use a larger one such as 10.244.0.0/16`);
  }
}
