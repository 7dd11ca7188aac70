import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { UserError } from '../errors.ts';
import { log } from '../log.ts';
import { isSignedBy, loadIssuedCertificate } from '../kube/pki/certificates.ts';
import type { K3sPki } from '../kube/pki/k3s-pki.ts';
import type { KubeadmPki } from '../kube/pki/kubeadm-pki.ts';
import type { StaticSecrets } from '../kube/static/plan-static.ts';

// What a cluster keeps between builds so every card ever built trusts the same CAs and joins with the same token:
// the profile's PKI and tokens, a seed for the cards' cloud-init instance ids and password salt, and each node's
// SSH host keys (its identity), as Talos keeps a secrets bundle.
export interface ClusterSecrets {
  name: string;
  id: string;
  distribution: 'k3s' | 'static';
  createdAt: string;
  seed: string;
  k3s?: K3sPki;
  static?: StaticSecrets;
  // SSH host keys by hostname, by file name (ssh_host_ed25519_key, ….pub).
  nodes: Map<string, Map<string, string>>;
}

// The folder's own record: who it belongs to and the sha256 of every file, so an edited file is refused.
export const SECRETS_MANIFEST = 'secrets.json';
// Where the kept k3s and static files go on a card: the folder keeps them by their path below these.
export const K3S_TLS = '/var/lib/rancher/k3s/server/tls';
export const KUBERNETES_DIR = '/etc/kubernetes';

// Reads a kept secrets folder and checks it before anything uses it: it belongs to this cluster (name and
// profile), no file was added, removed or edited since pikube wrote it (the manifest's digests), every key is its
// certificate's own and every certificate is signed by its CA. Undefined when the folder does not exist yet.
export async function readClusterSecrets(dir: string, expected: { name: string; distribution: 'k3s' | 'static' }): Promise<ClusterSecrets | undefined> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) return undefined;
  const refuse = (problem: string, hint = 'restore the folder from your backup; pikube never replaces a cluster\'s secrets (a new cluster needs a new secrets folder)'): never => {
    throw new UserError(`the secrets folder ${dir} ${problem}`, hint);
  };
  if (!info.isDirectory()) refuse('is not a folder');
  if ((info.mode & 0o077) !== 0) log.warn(`${dir} can be read by other users of this computer: chmod -R go= ${dir}`);
  const manifestText = await readFile(join(dir, SECRETS_MANIFEST), 'utf8').catch(() => refuse(`has no ${SECRETS_MANIFEST}: it was not written by pikube`));
  let manifest: { name?: unknown; id?: unknown; distribution?: unknown; createdAt?: unknown; files?: Record<string, string> };
  try {
    manifest = JSON.parse(manifestText) as typeof manifest;
  } catch {
    return refuse(`has a damaged ${SECRETS_MANIFEST}`);
  }
  if (typeof manifest.id !== 'string' || typeof manifest.name !== 'string' || typeof manifest.createdAt !== 'string' || !manifest.files) refuse(`has a damaged ${SECRETS_MANIFEST}`);
  if (manifest.name !== expected.name) {
    refuse(`belongs to the cluster "${String(manifest.name)}", and this recipe builds "${expected.name}"`,
      `use that cluster's own secrets folder (cluster.secrets or --secrets), or set \`cluster.name: ${String(manifest.name)}\` if this recipe is that cluster`);
  }
  if (manifest.distribution !== expected.distribution) {
    refuse(`holds a ${String(manifest.distribution)} cluster's secrets, and this recipe builds ${expected.distribution}`, 'a cluster keeps its profile: build it with the profile it was made with, or start a new cluster with a new secrets folder');
  }
  const files = await readTree(dir);
  const listed = manifest.files ?? {};
  for (const name of Object.keys(listed)) if (!files.has(name)) refuse(`is missing ${name}`);
  for (const [name, content] of files) {
    if (name === SECRETS_MANIFEST || name === '.gitignore') continue;
    const digest = listed[name];
    if (digest === undefined) refuse(`holds ${name}, which pikube did not write`, `remove ${join(dir, name)} (or restore the folder from your backup)`);
    if (hashSecretFile(content) !== digest) refuse(`has ${name} changed since pikube wrote it (its sha256 does not match ${SECRETS_MANIFEST})`);
  }
  await checkCertificates(dir, files);
  const text = (name: string): string => files.get(name) ?? refuse(`is missing ${name}`);
  const secrets: ClusterSecrets = {
    name: manifest.name as string, id: manifest.id as string, distribution: expected.distribution, createdAt: manifest.createdAt as string,
    seed: text('seed').trim(), nodes: new Map(),
  };
  for (const name of files.keys()) {
    const match = /^nodes\/([^/]+)\/([^/]+)$/.exec(name);
    if (!match) continue;
    const [, host = '', file = ''] = match;
    const keys = secrets.nodes.get(host) ?? new Map<string, string>();
    keys.set(file, text(name));
    secrets.nodes.set(host, keys);
  }
  if (expected.distribution === 'k3s') {
    const tls = [...files.keys()].filter((name) => name.startsWith('k3s/tls/'));
    const serverCa = text('k3s/tls/server-ca.crt');
    const token = text('k3s/token').trim();
    if (!token.startsWith(`K10${hashSecretFile(serverCa)}::server:`)) refuse('has a k3s token that does not pin its server CA');
    secrets.k3s = {
      files: tls.map((name) => ({ path: `${K3S_TLS}/${name.slice('k3s/tls/'.length)}`, content: text(name), mode: name.endsWith('.key') ? 0o600 : 0o644 })),
      token, serverCaPem: serverCa, admin: { certPem: text('k3s/admin.crt'), keyPem: text('k3s/admin.key') },
    };
  } else {
    const kept = [...files.keys()].filter((name) => name.startsWith('static/kubernetes/'));
    const path = (name: string) => `${KUBERNETES_DIR}/${name.slice('static/kubernetes/'.length)}`;
    const pki: KubeadmPki = {
      files: kept.map((name) => ({ path: path(name), content: text(name), mode: name.endsWith('.crt') || name.endsWith('.pub') ? 0o644 : 0o600 })),
      caPem: text('static/kubernetes/pki/ca.crt'), adminKubeconfig: text('static/admin.kubeconfig'),
    };
    const pair = (name: string) => loadIssuedCertificate(text(`static/kubernetes/pki/${name}.crt`), text(`static/kubernetes/pki/${name}.key`), join(dir, `static/kubernetes/pki/${name}.key`));
    const [id = '', secret = ''] = text('static/bootstrap-token').trim().split('.');
    if (!/^[a-z0-9]{6}$/.test(id) || !/^[a-z0-9]{16}$/.test(secret)) refuse('has a damaged static/bootstrap-token');
    secrets.static = {
      pki, pkiRequest: text('static/pki-request.json').trim(), bootstrap: { id, secret },
      cas: { ca: await pair('ca'), frontProxyCa: await pair('front-proxy-ca'), etcdCa: await pair('etcd/ca'), serviceAccount: { keyPem: text('static/kubernetes/pki/sa.key'), publicPem: text('static/kubernetes/pki/sa.pub') } },
    };
  }
  return secrets;
}

// A new cluster's identity: its name, a random id and seed; the PKI and node keys are added by the build.
export function makeClusterSecrets(name: string, distribution: 'k3s' | 'static', createdAt: Date): ClusterSecrets {
  return { name, id: randomUUID(), distribution, createdAt: createdAt.toISOString(), seed: randomBytes(32).toString('hex'), nodes: new Map() };
}

// A stable token from the cluster's seed: the same cluster and purpose always give the same letters.
export function deriveSecretToken(secrets: Pick<ClusterSecrets, 'seed'>, purpose: string, length: number): string {
  const bytes = createHash('sha256').update(`${secrets.seed}:${purpose}`).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return [...bytes.subarray(0, length)].map((b) => alphabet[b % alphabet.length]).join('');
}

// Every key beside a certificate (NAME.key beside NAME.crt) must be that certificate's own, and every certificate
// must carry a valid signature of a CA in the folder (itself for a root).
async function checkCertificates(dir: string, files: Map<string, string>): Promise<void> {
  const certificates = new Map<string, x509.X509Certificate>();
  for (const [name, content] of files) {
    if (!name.endsWith('.crt')) continue;
    try {
      certificates.set(name, new x509.X509Certificate(content));
    } catch {
      throw new UserError(`the secrets folder ${dir} has ${name}, which is not a certificate`, 'restore the folder from your backup');
    }
    const key = files.get(name.replace(/\.crt$/, '.key'));
    if (key !== undefined) await loadIssuedCertificate(content, key, join(dir, name.replace(/\.crt$/, '.key')));
  }
  const authorities = [...certificates.values()].filter((cert) => cert.getExtension(x509.BasicConstraintsExtension)?.ca);
  for (const [name, certificate] of certificates) {
    const candidates = authorities.filter((ca) => ca.subject === certificate.issuer);
    let signed = false;
    for (const ca of candidates) if (await isSignedBy(certificate, ca)) signed = true;
    if (!signed) throw new UserError(`the secrets folder ${dir} has ${name}, which no CA in the folder signed`, 'restore the folder from your backup: a certificate was replaced');
  }
}

async function readTree(root: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (relative: string): Promise<void> => {
    for (const name of (await readdir(join(root, relative))).sort()) {
      const child = relative ? `${relative}/${name}` : name;
      const info = await lstat(join(root, child));
      if (info.isDirectory()) await walk(child);
      else if (info.isFile()) files.set(child, await readFile(join(root, child), 'utf8'));
      else throw new UserError(`the secrets folder ${root} holds ${child}, which is not a file`, 'restore the folder from your backup');
    }
  };
  await walk('');
  return files;
}

// How the folder's manifest records each file.
export function hashSecretFile(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
