import type { Recipe } from '../config/schema.ts';

// Where Kubernetes API servers listen, on every profile.
export const API_PORT = 6443;

// Names the node can be reached by, for the API server certificate: the hostname, its mDNS name and a static address.
export function listNodeAddresses(recipe: Recipe): { names: string[]; ips: string[] } {
  const hostname = recipe.hostname ?? 'raspberrypi';
  const ip = recipe.network?.address.split('/')[0];
  return { names: [hostname, `${hostname}.local`], ips: ip ? [ip] : [] };
}

// How other machines reach the node: its static address, else HOSTNAME.local (mDNS, which both bases answer).
export function findNodeHost(recipe: Recipe): string {
  const { names, ips } = listNodeAddresses(recipe);
  return ips[0] ?? names[1] ?? '';
}

// The API address of a server, for agents, kubeconfigs and the cluster manifest.
export function makeServerUrl(server: Recipe): string {
  return `https://${findNodeHost(server)}:${API_PORT}`;
}
