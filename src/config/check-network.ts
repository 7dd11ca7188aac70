import type { z } from 'zod';
import { isInNetwork, parseIpv4 } from './ipv4.ts';

interface NetworkKeys {
  address: string;
  gateway: string;
}

// The rules of one static address, for a single card and every cluster node alike: the address must be a host of
// its subnet (not the network or broadcast address), and the gateway must be reachable on that subnet, or the Pi
// boots with no default route.
export function checkNetwork(network: NetworkKeys, ctx: z.core.$RefinementCtx<NetworkKeys>): void {
  const own = parseIpv4(network.address);
  if (own.prefix < 31 && (own.address === own.network || own.address === own.broadcast)) {
    ctx.addIssue({ code: 'custom', path: ['address'], message: `${network.address} is the ${own.address === own.network ? 'network' : 'broadcast'} address of its subnet, not a host address` });
  }
  if (!isInNetwork(parseIpv4(network.gateway).address, own)) {
    ctx.addIssue({ code: 'custom', path: ['gateway'], message: `${network.gateway} is not inside ${network.address}'s subnet: give the router's address on that subnet, or the right prefix length` });
  }
}
