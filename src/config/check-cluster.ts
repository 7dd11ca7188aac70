import type { z } from 'zod';
import type { Recipe } from './schema.ts';
import { isInNetwork, networksOverlap, parseIpv4 } from './ipv4.ts';

// k3s's own defaults, which the Pi's addresses must stay out of.
export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';
export const DEFAULT_CLUSTER_CIDR = '10.42.0.0/16';

type Context = z.core.$RefinementCtx<Recipe>;

// The rules that span several keys of a `cluster:` recipe, reported with the YAML path of the node at fault,
// so nothing is written for a cluster whose cards could not find each other.
export function checkCluster(recipe: Recipe, ctx: Context): void {
  const { cluster } = recipe;
  if (!cluster) return;
  const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (!recipe.kubernetes) issue(['cluster'], 'a cluster needs `kubernetes:` (e.g. `kubernetes: { distribution: k3s }`)');
  if (recipe.hostname !== undefined) issue(['hostname'], 'with `cluster:` each node sets its hostname under cluster.nodes: remove the top-level hostname');
  if (recipe.network !== undefined) issue(['network'], 'with `cluster:` each node sets its address under cluster.nodes[].network: remove the top-level network');
  if (!cluster.nodes.some((node) => node.role === 'server')) issue(['cluster', 'nodes'], 'no node has `role: server`: agents need a server to join');
  const service = parseIpv4(cluster.serviceCidr);
  const pods = parseIpv4(cluster.clusterCidr);
  if (networksOverlap(service, pods)) issue(['cluster', 'serviceCidr'], `overlaps clusterCidr ${cluster.clusterCidr}`);
  const hostnames = new Map<string, number>();
  const addresses = new Map<number, number>();
  for (const [i, node] of cluster.nodes.entries()) {
    const first = hostnames.get(node.hostname);
    if (first !== undefined) issue(['cluster', 'nodes', i, 'hostname'], `${node.hostname} is already the hostname of nodes[${first}]: every card needs its own name`);
    else hostnames.set(node.hostname, i);
    if (!node.network) continue;
    const own = parseIpv4(node.network.address);
    const at = ['cluster', 'nodes', i, 'network', 'address'];
    const taken = addresses.get(own.address);
    if (taken !== undefined) issue(at, `${node.network.address.split('/')[0]} is already the address of nodes[${taken}]`);
    else addresses.set(own.address, i);
    if (own.prefix < 31 && (own.address === own.network || own.address === own.broadcast)) {
      issue(at, `${node.network.address} is the ${own.address === own.network ? 'network' : 'broadcast'} address of its subnet, not a host address`);
    }
    if (isInNetwork(own.address, service)) issue(at, `${node.network.address} lies inside the service network ${cluster.serviceCidr}: pick an address on your LAN, or move serviceCidr`);
    if (isInNetwork(own.address, pods)) issue(at, `${node.network.address} lies inside the pod network ${cluster.clusterCidr}: pick an address on your LAN, or move clusterCidr`);
    if (!isInNetwork(parseIpv4(node.network.gateway).address, own)) {
      issue(['cluster', 'nodes', i, 'network', 'gateway'], `${node.network.gateway} is not inside ${node.network.address}'s subnet`);
    }
  }
}
