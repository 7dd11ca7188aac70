import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { ClusterRole, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { stringify } from 'yaml';
import type { ManifestFile } from './control-plane-manifests.ts';
import { makeBootstrapManifest, type BootstrapToken } from './bootstrap-token.ts';
import { CLUSTER, type StaticNetwork } from './cluster-settings.ts';
import type { StaticRelease } from '../../acquire/static-release.ts';

export const ADDON_DIR = '/etc/kubernetes/addons';

interface KubernetesObject {
  validate(): void;
  toJSON(): unknown;
}

// Validates each object against its kind's schema and joins them into one multi-document YAML file.
function documents(objects: KubernetesObject[]): string {
  return objects.map((object) => {
    object.validate();
    return `---\n${stringify(object.toJSON())}`;
  }).join('');
}

const system = (name: string, labels?: Record<string, string>) => ({ name, namespace: 'kube-system', ...(labels ? { labels } : {}) });
const CRITICAL = { priorityClassName: 'system-node-critical' };

// kube-proxy as kubeadm deploys it: ServiceAccount, the node-proxier binding, its ConfigMap (config.conf and an
// in-cluster kubeconfig) and a DaemonSet on the host network.
function kubeProxy(release: StaticRelease, apiServer: string, network: StaticNetwork): string {
  const config = {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    bindAddress: '0.0.0.0',
    clientConnection: { kubeconfig: '/var/lib/kube-proxy/kubeconfig.conf' },
    clusterCIDR: network.podSubnet,
    mode: '',
  };
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'default', cluster: { server: apiServer, 'certificate-authority': '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt' } }],
    contexts: [{ name: 'default', context: { cluster: 'default', namespace: 'default', user: 'default' } }],
    'current-context': 'default',
    users: [{ name: 'default', user: { tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' } }],
  };
  const labels = { 'k8s-app': 'kube-proxy' };
  return documents([
    new ServiceAccount({ metadata: system('kube-proxy') }),
    new ClusterRoleBinding({
      metadata: { name: 'kubeadm:node-proxier' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
      subjects: [{ kind: 'ServiceAccount', name: 'kube-proxy', namespace: 'kube-system' }],
    }),
    new ConfigMap({ metadata: system('kube-proxy', { app: 'kube-proxy' }), data: { 'config.conf': stringify(config), 'kubeconfig.conf': stringify(kubeconfig) } }),
    new DaemonSet({
      metadata: system('kube-proxy', labels),
      spec: {
        selector: { matchLabels: labels },
        updateStrategy: { type: 'RollingUpdate' },
        template: {
          metadata: { labels },
          spec: {
            ...CRITICAL,
            hostNetwork: true,
            serviceAccountName: 'kube-proxy',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [{ operator: 'Exists' }],
            containers: [{
              name: 'kube-proxy',
              image: release.images.proxy,
              imagePullPolicy: 'IfNotPresent',
              command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)'],
              env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
              securityContext: { privileged: true },
              volumeMounts: [
                { name: 'kube-proxy', mountPath: '/var/lib/kube-proxy' },
                { name: 'xtables-lock', mountPath: '/run/xtables.lock' },
                { name: 'lib-modules', mountPath: '/lib/modules', readOnly: true },
              ],
            }],
            volumes: [
              { name: 'kube-proxy', configMap: { name: 'kube-proxy' } },
              { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
              { name: 'lib-modules', hostPath: { path: '/lib/modules' } },
            ],
          },
        },
      },
    }),
  ]);
}

// CoreDNS as kubeadm deploys it (one replica: a Pi cluster starts with one node): RBAC, the Corefile, the
// Deployment and the Service named kube-dns on the tenth service address.
function coreDns(release: StaticRelease, network: StaticNetwork): string {
  const labels = { 'k8s-app': 'kube-dns' };
  const corefile = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes ${CLUSTER.domain} in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;
  return documents([
    new ServiceAccount({ metadata: system('coredns') }),
    new ClusterRole({
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    }),
    new ClusterRoleBinding({
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }],
    }),
    new ConfigMap({ metadata: system('coredns'), data: { Corefile: corefile } }),
    new Deployment({
      metadata: system('coredns', labels),
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels },
          spec: {
            priorityClassName: 'system-cluster-critical',
            serviceAccountName: 'coredns',
            nodeSelector: { 'kubernetes.io/os': 'linux' },
            tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }, { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
            containers: [{
              name: 'coredns',
              image: release.images.coredns,
              imagePullPolicy: 'IfNotPresent',
              args: ['-conf', '/etc/coredns/Corefile'],
              resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
              ports: [
                { name: 'dns', containerPort: 53, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
              ],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] }, readOnlyRootFilesystem: true },
              livenessProbe: { httpGet: { path: '/health', port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 60, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 5 },
              readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' } },
              volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
            }],
            dnsPolicy: 'Default',
            volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
          },
        },
      },
    }),
    new Service({
      metadata: { ...system('kube-dns', { ...labels, 'kubernetes.io/name': 'CoreDNS' }), annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' } },
      spec: {
        clusterIP: network.dnsIp,
        selector: labels,
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
          { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
        ],
      },
    }),
  ]);
}

// The bindings kubeadm creates at init: admins (O=kubeadm:cluster-admins) are cluster-admin, nodes may read nodes
// and renew their own client certificates.
function nodeRbac(): string {
  const bind = (name: string, role: string, group: string) => new ClusterRoleBinding({
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group }],
  });
  return documents([
    bind('kubeadm:cluster-admins', 'cluster-admin', 'kubeadm:cluster-admins'),
    new ClusterRole({ metadata: { name: 'kubeadm:get-nodes' }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }] }),
    bind('kubeadm:get-nodes', 'kubeadm:get-nodes', 'system:nodes'),
    bind('kubeadm:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', 'system:nodes'),
  ]);
}

// The addon files first boot applies once the API answers (in name order: RBAC first); a cluster's server also
// gets the agents' bootstrap token and its bindings.
export function makeAddonManifests(release: StaticRelease, apiServer: string, network: StaticNetwork, bootstrap?: BootstrapToken): ManifestFile[] {
  return [
    { path: `${ADDON_DIR}/10-rbac.yaml`, content: nodeRbac() },
    ...(bootstrap ? [{ path: `${ADDON_DIR}/15-bootstrap-token.yaml`, content: makeBootstrapManifest(bootstrap) }] : []),
    { path: `${ADDON_DIR}/20-kube-proxy.yaml`, content: kubeProxy(release, apiServer, network) },
    { path: `${ADDON_DIR}/30-coredns.yaml`, content: coreDns(release, network) },
  ];
}
