import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { stringify } from 'yaml';
import { listClusterNodes } from '../../src/kube/cluster-nodes.ts';
import { parseRecipe } from '../../src/config/load-recipe.ts';
import { UserError } from '../../src/errors.ts';
import { runCli } from '../helpers/cli.ts';
import { makeTempDir } from '../helpers/temp.ts';

const net = (address: string, gateway = '192.168.1.1') => ({ address, gateway });

function problems(recipe: Record<string, unknown>): string {
  try {
    parseRecipe(stringify({ base: 'base.img', kubernetes: {}, ...recipe }));
  } catch (error) {
    if (error instanceof UserError) return error.message;
    throw error;
  }
  return '';
}

test('a cluster recipe is refused, with each node\'s line, for duplicate names or addresses and addresses Kubernetes owns', (t) => {
  const message = problems({
    hostname: 'pi',
    cluster: {
      nodes: [
        { hostname: 'pi-1', role: 'server', network: net('192.168.1.50/24') },
        { hostname: 'pi-1', role: 'agent', network: net('192.168.1.50/24') },
        { hostname: 'pi-4', role: 'agent', network: net('10.43.0.9/16', '10.43.0.1') },
        { hostname: 'pi-5', role: 'agent', network: net('10.42.7.1/16', '10.42.0.1') },
        { hostname: 'pi-6', role: 'agent', network: net('192.168.1.0/24') },
        { hostname: 'pi-7', role: 'agent', network: net('192.168.1.60/24', '192.168.2.1') },
      ],
    },
  });
  t.regex(message, /hostname: with `cluster:` each node sets its hostname/);
  t.regex(message, /line \d+: cluster\.nodes\[1\]\.hostname: pi-1 is already the hostname of nodes\[0\]/);
  t.regex(message, /cluster\.nodes\[1\]\.network\.address: 192\.168\.1\.50 is already the address of nodes\[0\]/);
  t.regex(message, /cluster\.nodes\[2\]\.network\.address: 10\.43\.0\.9\/16 lies inside the service network 10\.43\.0\.0\/16/);
  t.regex(message, /cluster\.nodes\[3\]\.network\.address: 10\.42\.7\.1\/16 lies inside the pod network 10\.42\.0\.0\/16/);
  t.regex(message, /cluster\.nodes\[4\]\.network\.address: 192\.168\.1\.0\/24 is the network address of its subnet/);
  t.regex(message, /cluster\.nodes\[5\]\.network\.gateway: 192\.168\.2\.1 is not inside 192\.168\.1\.60\/24's subnet/);
});

test('invalid node names and roles are refused with their lines (checked before the cross-node rules)', (t) => {
  const message = problems({ cluster: { nodes: [{ hostname: 'pi-1', role: 'server' }, { hostname: 'Pi_2' }, { hostname: 'pi-3', role: 'worker' }] } });
  t.regex(message, /line \d+: cluster\.nodes\[1\]\.hostname: must be 1-63 lower-case letters/);
  t.regex(message, /line \d+: cluster\.nodes\[2\]\.role: "worker" is not allowed here; allowed: server, agent/);
});

test('a cluster needs a server and kubernetes, and an agent address may sit in a moved service network\'s old range', (t) => {
  t.regex(problems({ cluster: { nodes: [{ hostname: 'pi-1', role: 'agent' }] } }), /cluster\.nodes: no node has `role: server`/);
  t.regex(problems({ kubernetes: undefined, cluster: { nodes: [{ hostname: 'pi-1', role: 'server' }] } }), /cluster: a cluster needs `kubernetes:`/);
  t.regex(problems({ cluster: { nodes: [{ hostname: 'pi-1', role: 'server' }], nodez: 1 } }), /cluster\.nodez: unknown key \(did you mean "nodes"\?\)/);
  t.is(problems({ cluster: { serviceCidr: '10.96.0.0/12', nodes: [{ hostname: 'pi-1', role: 'server', network: net('10.43.0.9/16', '10.43.0.1') }] } }), '');
  t.regex(problems({ cluster: { serviceCidr: '10.42.0.0/15', nodes: [{ hostname: 'pi-1', role: 'server' }] } }), /cluster\.serviceCidr: overlaps clusterCidr/);
});

test('agents join the first server by address (or mDNS name); with three servers the first starts etcd and every server certificate names all of them', (t) => {
  const recipe = parseRecipe(stringify({
    base: 'base.img', kubernetes: {},
    cluster: {
      serviceCidr: '10.96.0.0/12',
      nodes: [
        { hostname: 'a', role: 'server' },
        { hostname: 'b', role: 'server', network: net('192.168.1.11/24') },
        { hostname: 'c', role: 'server', network: net('192.168.1.12/24') },
        { hostname: 'd' },
      ],
    },
  }));
  const nodes = listClusterNodes(recipe);
  t.deepEqual(nodes.map((n) => [n.hostname, n.role]), [['a', 'server'], ['b', 'server'], ['c', 'server'], ['d', 'agent']]);
  t.like(nodes[0]?.kube, { role: 'server', clusterInit: true, serviceCidr: '10.96.0.0/12' });
  t.is(nodes[0]?.kube.server, undefined);
  t.deepEqual(nodes[0]?.kube.tlsSan, ['a', 'a.local', 'b', 'b.local', '192.168.1.11', 'c', 'c.local', '192.168.1.12']);
  t.deepEqual(nodes[1]?.kube.tlsSan.slice(0, 3), ['b', 'b.local', '192.168.1.11']);
  t.like(nodes[1]?.kube, { server: 'https://a.local:6443' });
  t.like(nodes[3]?.kube, { role: 'agent', server: 'https://a.local:6443' });
  t.is(nodes[3]?.recipe.hostname, 'd');
  t.is(nodes[3]?.recipe.cluster, undefined);
});

test('pikube build refuses a bad cluster before writing anything', async (t) => {
  const dir = await makeTempDir(t);
  const recipe = path.join(dir, 'pikube.yaml');
  await writeFile(recipe, stringify({ base: 'base.img', kubernetes: {}, cluster: { nodes: [{ hostname: 'pi-1', role: 'server' }, { hostname: 'pi-1' }] } }));
  const result = await runCli(['build', '-c', recipe, '-o', path.join(dir, 'out')]);
  t.is(result.exitCode, 1, result.stderr);
  t.regex(result.stderr, /cluster\.nodes\[1\]\.hostname: pi-1 is already the hostname of nodes\[0\]/);
  t.deepEqual(await readdir(dir), ['pikube.yaml']);
});

test('a static cluster is refused with a second server, an address in kubeadm\'s service network, or too small a pod network', (t) => {
  const message = problems({
    kubernetes: { distribution: 'static' },
    cluster: {
      nodes: [
        { hostname: 'pi-1', role: 'server' },
        { hostname: 'pi-2', role: 'server' },
        { hostname: 'pi-3', role: 'agent', network: net('10.96.4.20/12', '10.96.0.1') },
        { hostname: 'pi-4', role: 'agent', network: net('10.244.3.9/16', '10.244.0.1') },
      ],
    },
  });
  t.regex(message, /cluster\.nodes\[1\]\.role: a second server in a static cluster would need etcd peers, and pikube builds no stacked etcd across servers: keep one server \(nodes\[0\]\)/);
  t.regex(message, /`distribution: k3s` for several servers/);
  t.regex(message, /cluster\.nodes\[2\]\.network\.address: 10\.96\.4\.20\/12 lies inside the service network 10\.96\.0\.0\/12/);
  t.regex(message, /cluster\.nodes\[3\]\.network\.address: 10\.244\.3\.9\/16 lies inside the pod network 10\.244\.0\.0\/16/);
  t.is(problems({ cluster: { nodes: [{ hostname: 'pi-1', role: 'server', network: net('10.96.4.20/12', '10.96.0.1') }] } }), '', 'k3s does not use 10.96.0.0/12');
  t.regex(problems({ kubernetes: { distribution: 'static' }, cluster: { clusterCidr: '10.200.0.0/25', nodes: [{ hostname: 'pi-1', role: 'server' }] } }),
    /cluster\.clusterCidr: 10\.200\.0\.0\/25 holds 0 \/24 pod networks and the static profile needs one per node \(1\)/);
  t.regex(problems({ kubernetes: { distribution: 'static' }, cluster: { clusterCidr: '10.200.0.0/23', nodes: ['a', 'b', 'c'].map((hostname, i) => ({ hostname, role: i ? 'agent' : 'server' })) } }),
    /holds 2 \/24 pod networks and the static profile needs one per node \(3\)/);
});

test('static cluster nodes: one server naming itself, agents pointed at its address, each its own /24 of the pod network', (t) => {
  const nodes = listClusterNodes(parseRecipe(stringify({
    base: 'base.img', kubernetes: { distribution: 'static' },
    cluster: { nodes: [{ hostname: 'a' }, { hostname: 'b', role: 'server', network: net('192.168.1.11/24') }, { hostname: 'c' }] },
  })));
  t.deepEqual(nodes.map((n) => n.kube), [
    { distribution: 'static', role: 'agent', server: 'https://192.168.1.11:6443', tlsSan: [], index: 0, peers: [{ index: 1, host: '192.168.1.11' }, { index: 2, host: 'c.local' }] },
    { distribution: 'static', role: 'server', server: 'https://192.168.1.11:6443', tlsSan: ['b', 'b.local', '192.168.1.11'], index: 1, peers: [{ index: 0, host: 'a.local' }, { index: 2, host: 'c.local' }] },
    { distribution: 'static', role: 'agent', server: 'https://192.168.1.11:6443', tlsSan: [], index: 2, peers: [{ index: 0, host: 'a.local' }, { index: 1, host: '192.168.1.11' }] },
  ]);
});
