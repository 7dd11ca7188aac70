// An IPv4 network read from `a.b.c.d/len`: the first address and the mask, as unsigned 32-bit numbers.
export interface Ipv4Network {
  address: number;
  prefix: number;
  network: number;
  broadcast: number;
}

// Parses `a.b.c.d` (or `a.b.c.d/len`, the prefix defaulting to 32); the schema has already checked the shape.
export function parseIpv4(text: string): Ipv4Network {
  const [ip = '', length = '32'] = text.split('/');
  const address = ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
  const prefix = Number(length);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(address / size) * size;
  return { address, prefix, network, broadcast: network + size - 1 };
}

// Whether an address lies inside a network.
export function isInNetwork(address: number, network: Ipv4Network): boolean {
  return address >= network.network && address <= network.broadcast;
}

// Whether two networks share any address.
export function networksOverlap(a: Ipv4Network, b: Ipv4Network): boolean {
  return a.network <= b.broadcast && b.network <= a.broadcast;
}

// Writes an unsigned 32-bit address back as `a.b.c.d`.
export function formatIpv4(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}
