import { stringify } from 'yaml';

// The kubeconfig `kubeadm join` writes to /etc/kubernetes/bootstrap-kubelet.conf: the cluster CA (so the agent
// needs no cluster-info lookup) and the bootstrap token, which the kubelet trades for its client certificate.
export function makeBootstrapKubeconfig(options: { server: string; caPem: string; token: string }): string {
  const user = 'tls-bootstrap-token-user';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'kubernetes', cluster: { server: options.server, 'certificate-authority-data': Buffer.from(options.caPem).toString('base64') } }],
    contexts: [{ name: `${user}@kubernetes`, context: { cluster: 'kubernetes', user } }],
    'current-context': `${user}@kubernetes`,
    users: [{ name: user, user: { token: options.token } }],
    preferences: {},
  });
}
