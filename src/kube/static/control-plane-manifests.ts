import type { IProbe, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import { Pod } from 'kubernetes-models/v1';
import { stringify } from 'yaml';
import type { StaticRelease } from '../../acquire/static-release.ts';
import { makeStaticNetwork, MANIFEST_DIR, type StaticNetwork } from './cluster-settings.ts';
import { API_PORT } from '../node-address.ts';
import { apiserverFlags, controllerManagerFlags, etcdFlags, schedulerFlags, type ControlPlaneAddress } from './control-plane-flags.ts';

export interface ManifestFile {
  path: string;
  content: string;
}

interface Mount {
  name: string;
  hostPath: string;
  mountPath?: string;
  type: 'Directory' | 'DirectoryOrCreate' | 'FileOrCreate';
  readOnly: boolean;
}

const CA_MOUNTS: Mount[] = [
  { name: 'ca-certs', hostPath: '/etc/ssl/certs', type: 'DirectoryOrCreate', readOnly: true },
  { name: 'etc-ca-certificates', hostPath: '/etc/ca-certificates', type: 'DirectoryOrCreate', readOnly: true },
  { name: 'usr-local-share-ca-certificates', hostPath: '/usr/local/share/ca-certificates', type: 'DirectoryOrCreate', readOnly: true },
  { name: 'usr-share-ca-certificates', hostPath: '/usr/share/ca-certificates', type: 'DirectoryOrCreate', readOnly: true },
];
const K8S_CERTS: Mount = { name: 'k8s-certs', hostPath: '/etc/kubernetes/pki', type: 'DirectoryOrCreate', readOnly: true };

function probe(path: string, port: number, scheme: 'HTTP' | 'HTTPS', host: string, failureThreshold: number, periodSeconds = 10): IProbe {
  return { httpGet: { host, path, port, scheme }, initialDelaySeconds: 10, periodSeconds, timeoutSeconds: 15, failureThreshold };
}

interface PodSpecInput {
  component: string;
  image: string;
  flags: string[];
  cpu: string;
  memory?: string;
  mounts: Mount[];
  liveness: IProbe;
  readiness?: IProbe;
  startup: IProbe;
  annotations?: Record<string, string>;
}

// One control-plane static pod the way kubeadm shapes it: host network, system-node-critical, hostPath mounts,
// HTTP(S) probes, the RuntimeDefault seccomp profile; validated against the Pod schema before it is written.
function controlPlanePod(input: PodSpecInput): Pod {
  const volumes: IVolume[] = input.mounts.map((m) => ({ name: m.name, hostPath: { path: m.hostPath, type: m.type } }));
  const volumeMounts: IVolumeMount[] = input.mounts.map((m) => ({ name: m.name, mountPath: m.mountPath ?? m.hostPath, readOnly: m.readOnly }));
  const pod = new Pod({
    metadata: {
      name: input.component,
      namespace: 'kube-system',
      labels: { component: input.component, tier: 'control-plane' },
      ...(input.annotations ? { annotations: input.annotations } : {}),
    },
    spec: {
      hostNetwork: true,
      priority: 2000001000,
      priorityClassName: 'system-node-critical',
      securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{
        name: input.component,
        image: input.image,
        imagePullPolicy: 'IfNotPresent',
        command: [input.component, ...input.flags],
        resources: { requests: { cpu: input.cpu, ...(input.memory ? { memory: input.memory } : {}) } },
        livenessProbe: input.liveness,
        ...(input.readiness ? { readinessProbe: input.readiness } : {}),
        startupProbe: input.startup,
        volumeMounts,
      }],
      volumes,
    },
  });
  pod.validate();
  return pod;
}

// The four static pods kubeadm would write to /etc/kubernetes/manifests, for this release, node and networks.
export function makeControlPlaneManifests(release: StaticRelease, address: ControlPlaneAddress, network: StaticNetwork = makeStaticNetwork()): ManifestFile[] {
  const apiHost = address.advertiseIp ?? '127.0.0.1';
  const etcdHealth = release.etcdMinor >= 6 ? { live: '/livez', ready: '/readyz' } : { live: '/health?exclude=NOSPACE&serializable=true', ready: undefined };
  const pods = [
    controlPlanePod({
      component: 'etcd', image: release.images.etcd, flags: etcdFlags(address, release.etcdMinor), cpu: '100m', memory: '100Mi',
      mounts: [
        { name: 'etcd-data', hostPath: '/var/lib/etcd', type: 'DirectoryOrCreate', readOnly: false },
        { name: 'etcd-certs', hostPath: '/etc/kubernetes/pki/etcd', type: 'DirectoryOrCreate', readOnly: false },
      ],
      liveness: probe(etcdHealth.live, 2381, 'HTTP', '127.0.0.1', 8),
      ...(etcdHealth.ready ? { readiness: probe(etcdHealth.ready, 2381, 'HTTP', '127.0.0.1', 3, 1) } : {}),
      startup: probe(etcdHealth.ready ?? etcdHealth.live, 2381, 'HTTP', '127.0.0.1', 24),
      annotations: { 'kubeadm.kubernetes.io/etcd.advertise-client-urls': `https://${apiHost}:2379` },
    }),
    controlPlanePod({
      component: 'kube-apiserver', image: release.images.apiserver, flags: apiserverFlags(address, network), cpu: '250m',
      mounts: [...CA_MOUNTS, K8S_CERTS],
      liveness: probe('/livez', API_PORT, 'HTTPS', apiHost, 8),
      readiness: probe('/readyz', API_PORT, 'HTTPS', apiHost, 3, 1),
      startup: probe('/livez', API_PORT, 'HTTPS', apiHost, 24),
      annotations: { 'kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint': `${apiHost}:${API_PORT}` },
    }),
    controlPlanePod({
      component: 'kube-controller-manager', image: release.images.controllerManager, flags: controllerManagerFlags(network), cpu: '200m',
      mounts: [
        ...CA_MOUNTS, K8S_CERTS,
        { name: 'flexvolume-dir', hostPath: '/usr/libexec/kubernetes/kubelet-plugins/volume/exec', type: 'DirectoryOrCreate', readOnly: false },
        { name: 'kubeconfig', hostPath: '/etc/kubernetes/controller-manager.conf', type: 'FileOrCreate', readOnly: true },
      ],
      liveness: probe('/healthz', 10257, 'HTTPS', '127.0.0.1', 8),
      startup: probe('/healthz', 10257, 'HTTPS', '127.0.0.1', 24),
    }),
    controlPlanePod({
      component: 'kube-scheduler', image: release.images.scheduler, flags: schedulerFlags(), cpu: '100m',
      mounts: [{ name: 'kubeconfig', hostPath: '/etc/kubernetes/scheduler.conf', type: 'FileOrCreate', readOnly: true }],
      liveness: probe('/livez', 10259, 'HTTPS', '127.0.0.1', 8),
      readiness: probe('/readyz', 10259, 'HTTPS', '127.0.0.1', 3, 1),
      startup: probe('/livez', 10259, 'HTTPS', '127.0.0.1', 24),
    }),
  ];
  return pods.map((pod) => ({ path: `${MANIFEST_DIR}/${pod.metadata!.name}.yaml`, content: stringify(pod.toJSON()) }));
}
