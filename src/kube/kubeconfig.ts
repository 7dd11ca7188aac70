import { parse, stringify } from 'yaml';

export interface KubeconfigOptions {
  clusterName: string;
  server: string;
  caPem: string;
  userName: string;
  certPem: string;
  keyPem: string;
}

// A kubeconfig with everything embedded, so one file is all `kubectl --kubeconfig` needs.
export function makeKubeconfig(options: KubeconfigOptions): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: options.clusterName, cluster: { server: options.server, 'certificate-authority-data': b64(options.caPem) } }],
    users: [{ name: options.userName, user: { 'client-certificate-data': b64(options.certPem), 'client-key-data': b64(options.keyPem) } }],
    contexts: [{ name: options.clusterName, context: { cluster: options.clusterName, user: options.userName } }],
    'current-context': options.clusterName,
    preferences: {},
  });
}

// kubectl on Linux is a static Go binary whose resolver never asks mDNS (nss-mdns is out of its reach), so a
// kubeconfig naming HOST.local fails there with "no such host" although ping finds the Pi. Says so, with the
// one-line fix: the server's address, keeping HOST.local as the name TLS checks (the certificate holds it).
export function describeMdnsServer(kubeconfig: string, path: string): string | undefined {
  const config = parse(kubeconfig) as { clusters?: Array<{ name?: string; cluster?: { server?: string } }> };
  const cluster = config.clusters?.[0];
  const server = cluster?.cluster?.server;
  if (!cluster?.name || !server) return undefined;
  const url = new URL(server);
  if (!url.hostname.endsWith('.local')) return undefined;
  const host = url.hostname;
  return `${path} reaches the server as ${host}, an mDNS name that kubectl on Linux cannot resolve (its Go resolver skips nss-mdns; macOS and Windows are fine). `
    + 'Give the server a static `network.address` in the recipe, or once the Pi is up run: '
    + `kubectl --kubeconfig ${path} config set-cluster ${cluster.name} --server=https://$(getent ahostsv4 ${host} | awk 'NR==1{print $1}'):${url.port || '443'} --tls-server-name=${host}`;
}
