import { z } from 'zod';
import { checkCluster } from './check-cluster.ts';
import { checkKubernetes, checkKubernetesSection } from './check-kubernetes.ts';
import { readCountryCode } from './country-code.ts';
import { checkNetwork } from './check-network.ts';
import { checkAuthorizedKey } from './ssh-key.ts';

// Paths go to debugfs and mtools as quoted arguments: no quotes, backslashes or control characters.
const imagePath = z.string()
  .regex(/^\/[^"\\\u0000-\u001F]*$/, 'must be an absolute path (starting with /) without quotes, backslashes or control characters')
  .refine((p) => !p.split('/').includes('..'), 'must not contain .. segments');

// Modes are octal strings ("0644"); a bare YAML number like 644 or 0644 is read by its digits as octal too.
const mode = z.union([z.string().regex(/^0?[0-7]{3,4}$/, 'must be an octal mode such as "0644"'), z.number().int()], { error: 'must be an octal mode such as "0644"' })
  .transform((value, ctx) => {
    const digits = typeof value === 'number' ? String(value) : value;
    if (!/^0?[0-7]{3,4}$/.test(digits)) {
      ctx.addIssue({ code: 'custom', message: 'must be an octal mode such as "0644"' });
      return z.NEVER;
    }
    return Number.parseInt(digits, 8);
  });

const owner = z.string().regex(/^[a-z_][a-z0-9_-]*\$?(:[a-z_][a-z0-9_-]*\$?)?$|^\d+(:\d+)?$/, 'must be "user", "user:group" or "uid:gid"');

const fileEntry = z.strictObject({
  partition: z.enum(['boot', 'root']).default('root'),
  path: imagePath,
  content: z.string().optional(),
  source: z.string().min(1).optional(),
  symlink: z.string().min(1).optional(),
  mode: mode.optional(),
  owner: owner.optional(),
}).superRefine((entry, ctx) => {
  const kinds = ['content', 'source', 'symlink'].filter((key) => entry[key as 'content' | 'source' | 'symlink'] !== undefined);
  if (kinds.length !== 1) {
    ctx.addIssue({ code: 'custom', message: `give exactly one of content, source or symlink (got ${kinds.length === 0 ? 'none' : kinds.join(' and ')})` });
  }
  if (entry.partition === 'boot' && entry.symlink !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['symlink'], message: 'the boot partition is FAT, which has no symlinks' });
  }
  if (entry.partition === 'boot' && (entry.mode !== undefined || entry.owner !== undefined)) {
    ctx.addIssue({ code: 'custom', path: [entry.mode !== undefined ? 'mode' : 'owner'], message: 'the boot partition is FAT, which has no modes or owners' });
  }
});

const hostname = z.string().regex(/^(?=.{1,63}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be 1-63 lower-case letters, digits and inner hyphens (RFC 1123)');

const user = z.strictObject({
  name: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a Linux user name: lower-case letters, digits, _ and -, at most 32'),
  password: z.string().min(1).optional(),
  passwordHash: z.string().regex(/^\$(1|5|6|y|2[aby])\$/, 'must be a crypt(3) hash such as one from `openssl passwd -6`').optional(),
  sshAuthorizedKeys: z.array(z.string().superRefine((line, ctx) => {
    const problem = checkAuthorizedKey(line);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })).default([]),
}).refine((u) => !(u.password && u.passwordHash), { message: 'give password or passwordHash, not both' });

const wifi = z.strictObject({
  ssid: z.string().min(1).max(32),
  psk: z.string().min(8, 'a WPA passphrase has 8 to 63 characters').max(63, 'a WPA passphrase has 8 to 63 characters'),
  country: z.string().transform((text, ctx) => {
    const read = readCountryCode(text);
    if ('code' in read) return read.code;
    ctx.addIssue({ code: 'custom', message: read.problem });
    return z.NEVER;
  }),
});

const ipv4 = z.string().regex(/^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/, 'must be an IPv4 address such as 192.168.1.10');

const network = z.strictObject({
  address: z.string().regex(/^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/([12]?\d|3[0-2])$/, 'must be an IPv4 address with its prefix length, such as 192.168.1.10/24'),
  gateway: ipv4,
  dns: z.array(ipv4).default([]),
  interface: z.string().regex(/^[a-z][a-z0-9]{1,14}$/, 'must be a network interface name such as eth0 or wlan0').default('eth0'),
}).superRefine((network, ctx) => checkNetwork(network, ctx));

const imageBuild = z.strictObject({
  name: z.string().regex(/^[a-z0-9]+([._\/-][a-z0-9]+)*(:[\w][\w.-]{0,127})?$/, 'must be an image name such as myapp:1.0'),
  context: z.string().min(1),
});

const kubernetes = z.strictObject({
  distribution: z.enum(['k3s', 'static']).default('k3s'),
  version: z.string().regex(/^v\d+\.\d+\.\d+(-rc\d+)?(\+k3s\d+)?$/, 'must be a release such as v1.34.11+k3s1 (k3s) or v1.37.0 (static)').optional(),
  disable: z.array(z.enum(['coredns', 'servicelb', 'traefik', 'local-storage', 'metrics-server', 'runtimes'])).default([]),
  build: z.array(imageBuild).default([]),
}).superRefine((kubernetes, ctx) => checkKubernetesSection(kubernetes, ctx));

const baseObject = z.strictObject({
  source: z.string().min(1),
  sha256: z.string().regex(/^[a-f0-9]{64}$/, 'must be 64 lower-case hex digits').optional(),
  entry: z.string().min(1).optional(),
});

const cidr = z.string().regex(/^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/([12]?\d|3[0-2])$/, 'must be an IPv4 network such as 10.43.0.0/16');

const clusterNode = z.strictObject({
  hostname,
  role: z.enum(['server', 'agent']).default('agent'),
  network: network.optional(),
});

const cluster = z.strictObject({
  // Names the cluster in its secrets folder and kubeconfig context; default: the recipe's file name.
  name: hostname.optional(),
  // The folder that keeps the cluster's CAs, tokens and node identities (relative to the recipe); default: DIR/secrets.
  secrets: z.string().min(1).optional(),
  nodes: z.array(clusterNode).min(1, 'list at least one node').max(100, 'at most 100 nodes'),
  // Left out: the profile's own default (k3s 10.43.0.0/16 and 10.42.0.0/16, static 10.96.0.0/12 and 10.244.0.0/16).
  serviceCidr: cidr.optional(),
  clusterCidr: cidr.optional(),
});

// A Helm chart installed at first boot: from a chart repository (its index.yaml names the digest) or a local .tgz.
const chart = z.strictObject({
  repo: z.string().url().optional(),
  chart: z.string().min(1).optional(),
  name: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must be a chart name such as podinfo').optional(),
  version: z.string().min(1).optional(),
  sha256: z.string().regex(/^(sha256:)?[a-f0-9]{64}$/, 'must be 64 lower-case hex digits').optional(),
  namespace: hostname.default('default'),
  values: z.record(z.string(), z.unknown()).default({}),
}).superRefine((entry, ctx) => {
  if ((entry.repo === undefined) === (entry.chart === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'give exactly one of repo (a chart repository URL, with name and version) or chart (a local .tgz)' });
  }
  if (entry.repo !== undefined && (entry.name === undefined || entry.version === undefined)) {
    ctx.addIssue({ code: 'custom', path: [entry.name === undefined ? 'name' : 'version'], message: 'a chart from a repository needs its name and version' });
  }
});

// The Raspberry Pi model the card is for (optional): pikube refuses Kubernetes on the ARMv6 ones.
export const BOARDS = ['pi1', 'pi-zero', 'pi-zero-w', 'cm1', 'pi2', 'pi-zero-2-w', 'pi3', 'cm3', 'pi4', 'pi400', 'cm4', 'pi5', 'pi500', 'cm5'] as const;

const recipeObject = z.strictObject({
  base: z.union([z.string().min(1, 'must not be empty'), baseObject], {
    error: 'must be a catalog name, an https URL or a path (`base: hypriot`), or a map with `source:` and optionally `sha256:` and `entry:`',
  }),
  board: z.enum(BOARDS).optional(),
  hostname: hostname.optional(),
  user: user.optional(),
  wifi: wifi.optional(),
  files: z.array(fileEntry).default([]),
  overlay: z.string().min(1).optional(),
  mirror: z.string().url().optional(),
  network: network.optional(),
  kubernetes: kubernetes.optional(),
  images: z.array(z.string().min(1)).default([]),
  // Kubernetes YAML files or folders (relative to the recipe) applied at first boot.
  manifests: z.array(z.string().min(1)).default([]),
  charts: z.array(chart).default([]),
  registryMirror: z.string().url().optional(),
  cluster: cluster.optional(),
});

// Runs a rule that spans several top-level keys in the same pass as the schema, once those keys are valid (so a
// problem there is reported together with unrelated schema errors, never only after they are fixed). Problems
// inside one cluster node do not stop the cluster rules, which skip that node.
function whenValid(keys: string[]): { when: (payload: z.core.ParsePayload) => boolean } {
  const isMap = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  const blocks = (path: PropertyKey[]) => {
    if (path.length === 0) return true;
    if (path[0] === 'cluster' && path[1] === 'nodes' && typeof path[2] === 'number') return false;
    return keys.includes(String(path[0]));
  };
  return {
    when: (payload) => isMap(payload.value) && !payload.issues.some((issue) =>
      ((issue.path ?? []).length === 0 ? issue.code !== 'unrecognized_keys' : blocks(issue.path ?? []))),
  };
}

// The recipe: everything `pikube build` needs to know, nothing it can find out for itself.
export const recipeSchema = recipeObject
  .superRefine((recipe, ctx) => checkKubernetes(recipe, ctx), whenValid(['kubernetes', 'images', 'hostname', 'cluster']))
  .superRefine((recipe, ctx) => checkCluster(recipe, ctx), whenValid(['kubernetes', 'cluster', 'hostname', 'network']));

export type Recipe = z.infer<typeof recipeObject>;

// The keys each YAML map may hold, for "did you mean" on an unknown key.
export const KNOWN_KEYS: Record<string, string[]> = {
  '': Object.keys(recipeObject.shape),
  user: ['name', 'password', 'passwordHash', 'sshAuthorizedKeys'],
  wifi: ['ssid', 'psk', 'country'],
  base: ['source', 'sha256', 'entry'],
  'files[]': ['partition', 'path', 'content', 'source', 'symlink', 'mode', 'owner'],
  network: ['address', 'gateway', 'dns', 'interface'],
  kubernetes: ['distribution', 'version', 'disable', 'build'],
  'kubernetes.build[]': ['name', 'context'],
  'charts[]': ['repo', 'chart', 'name', 'version', 'sha256', 'namespace', 'values'],
  cluster: ['name', 'secrets', 'nodes', 'serviceCidr', 'clusterCidr'],
  'cluster.nodes[]': ['hostname', 'role', 'network'],
  'cluster.nodes[].network': ['address', 'gateway', 'dns', 'interface'],
};
