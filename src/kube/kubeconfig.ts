import { stringify } from 'yaml';

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
