import { randomInt } from 'node:crypto';
import { Secret } from 'kubernetes-models/v1';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { stringify } from 'yaml';

// A kubeadm bootstrap token, `[a-z0-9]{6}.[a-z0-9]{16}`: the id is public (it names the Secret), the secret is not.
export interface BootstrapToken {
  id: string;
  secret: string;
}

// The group kubeadm puts joining nodes in, which the bootstrap RBAC below binds.
export const BOOTSTRAP_GROUP = 'system:bootstrappers:kubeadm:default-node-token';
// Where `kubeadm join` leaves the kubelet's bootstrap kubeconfig; the kubelet drop-in already names it.
export const BOOTSTRAP_KUBECONFIG = '/etc/kubernetes/bootstrap-kubelet.conf';
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

// A fresh token for one cluster, drawn uniformly from kubeadm's alphabet.
export function generateBootstrapToken(): BootstrapToken {
  const draw = (length: number) => Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
  return { id: draw(6), secret: draw(16) };
}

// The token as the kubelet presents it: `id.secret`.
export function formatBootstrapToken(token: BootstrapToken): string {
  return `${token.id}.${token.secret}`;
}

// What the server's first boot applies so agents can join: the token's Secret as `kubeadm token create` writes it
// (no expiration: a card may be flashed long after the build) and the bindings `kubeadm init` makes for the
// bootstrap group: create CSRs, and have the node-client ones approved automatically. Renewals by nodes
// (kubeadm:node-autoapprove-certificate-rotation) are in the RBAC addon every static server gets.
export function makeBootstrapManifest(token: BootstrapToken): string {
  const bind = (name: string, role: string) => new ClusterRoleBinding({
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: BOOTSTRAP_GROUP }],
  });
  const objects = [
    new Secret({
      metadata: { name: `bootstrap-token-${token.id}`, namespace: 'kube-system' },
      type: 'bootstrap.kubernetes.io/token',
      stringData: {
        description: 'made by pikube at build time for the cluster\'s agents',
        'token-id': token.id,
        'token-secret': token.secret,
        'usage-bootstrap-authentication': 'true',
        'usage-bootstrap-signing': 'true',
        'auth-extra-groups': BOOTSTRAP_GROUP,
      },
    }),
    bind('kubeadm:kubelet-bootstrap', 'system:node-bootstrapper'),
    bind('kubeadm:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient'),
  ];
  return objects.map((object) => {
    object.validate();
    return `---\n${stringify(object.toJSON())}`;
  }).join('');
}
