import { chmod, lstat, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { K3S_TLS, KUBERNETES_DIR, SECRETS_MANIFEST, hashSecretFile, type ClusterSecrets } from '../gather/cluster-secrets.ts';
import { formatBootstrapToken } from '../kube/static/bootstrap-token.ts';

// Writes the folder whole (0700, keys 0600, a manifest of digests, a .gitignore that keeps it out of git) beside
// its final place and swaps it in, so a failed write leaves the kept folder as it was.
export async function writeClusterSecrets(dir: string, secrets: ClusterSecrets): Promise<void> {
  const files = listSecretFiles(secrets);
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const temp = await mkdtemp(join(parent, `.${basename(dir)}.pikube-`));
  try {
    const fresh = join(temp, 'secrets');
    await mkdir(fresh, { mode: 0o700 });
    for (const [name, { content, mode }] of files) {
      await mkdir(dirname(join(fresh, name)), { recursive: true, mode: 0o700 });
      await writeFile(join(fresh, name), content, { mode });
      await chmod(join(fresh, name), mode);
    }
    const digests = Object.fromEntries([...files].map(([name, { content }]) => [name, hashSecretFile(content)]));
    await writeFile(join(fresh, SECRETS_MANIFEST), `${JSON.stringify({ pikube: 'cluster secrets', name: secrets.name, id: secrets.id, distribution: secrets.distribution, createdAt: secrets.createdAt, files: digests }, null, 2)}\n`, { mode: 0o600 });
    await writeFile(join(fresh, '.gitignore'), '# pikube cluster secrets: CA keys and join tokens. Keep a backup of this folder; never commit it.\n*\n', { mode: 0o600 });
    await chmod(fresh, 0o700);
    if (await lstat(dir).catch(() => undefined)) await rename(dir, join(temp, 'previous'));
    await rename(fresh, dir);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

function listSecretFiles(secrets: ClusterSecrets): Map<string, { content: string; mode: number }> {
  const files = new Map<string, { content: string; mode: number }>();
  const add = (name: string, content: string, mode = name.endsWith('.crt') || name.endsWith('.pub') ? 0o644 : 0o600) => files.set(name, { content, mode });
  add('seed', `${secrets.seed}\n`);
  if (secrets.k3s) {
    for (const file of secrets.k3s.files) add(`k3s/tls/${posix.relative(K3S_TLS, file.path)}`, file.content);
    add('k3s/token', `${secrets.k3s.token}\n`);
    add('k3s/admin.crt', secrets.k3s.admin.certPem);
    add('k3s/admin.key', secrets.k3s.admin.keyPem);
  }
  if (secrets.static) {
    for (const file of secrets.static.pki.files) add(`static/kubernetes/${posix.relative(KUBERNETES_DIR, file.path)}`, file.content);
    add('static/admin.kubeconfig', secrets.static.pki.adminKubeconfig);
    add('static/pki-request.json', `${secrets.static.pkiRequest}\n`);
    add('static/bootstrap-token', `${formatBootstrapToken(secrets.static.bootstrap)}\n`);
  }
  for (const [host, keys] of [...secrets.nodes].sort(([a], [b]) => a.localeCompare(b))) {
    for (const [name, content] of keys) add(`nodes/${host}/${name}`, content);
  }
  return files;
}
