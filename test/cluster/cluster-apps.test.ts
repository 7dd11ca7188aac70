import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test from 'ava';
import { parse, parseAllDocuments } from 'yaml';
import { startChartRepo } from '../helpers/chart-repo.ts';
import { runCli } from '../helpers/cli.ts';
import { makeBase, readRootFile, sha256, statInImage } from '../helpers/image.ts';
import { serveK3sRelease } from '../helpers/k3s-release.ts';
import { startMirror } from '../helpers/mirror.ts';
import { writeRecipe } from '../helpers/recipe.ts';
import { startStaticWorld } from '../helpers/static-release.ts';

const USER = { name: 'pirate', passwordHash: '$6$salt$abcdefghijklmnopqrstuv' };
const K3S_MANIFESTS = '/var/lib/rancher/k3s/server/manifests';
const NAMESPACE = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n';
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  namespace: web
spec:
  replicas: 2
  selector:
    matchLabels: { app: hello }
  template:
    metadata:
      labels: { app: hello }
    spec:
      containers:
        - name: hello
          image: nginx:1.27
---
apiVersion: v1
kind: Service
metadata:
  name: hello
  namespace: web
spec:
  selector: { app: hello }
  ports: [{ port: 80 }]
`;

async function writeApps(dir: string): Promise<void> {
  await mkdir(join(dir, 'apps', 'web'), { recursive: true });
  await writeFile(join(dir, 'apps', 'web', '00-namespace.yaml'), NAMESPACE);
  await writeFile(join(dir, 'apps', 'web', 'hello.yaml'), DEPLOYMENT);
  await writeFile(join(dir, 'apps', 'web', 'README.md'), 'not a manifest\n');
  await writeFile(join(dir, 'apps', 'config.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  colour: blue\n');
}

test('k3s: manifests and a chart from a chart repository land in the servers\' auto-deploy folder (the chart inside its HelmChart); agents get none', async (t) => {
  const { dir } = await makeBase(t, { arch: 'armhf' });
  const mirror = await startMirror(t);
  serveK3sRelease(mirror, 'v1.34.11+k3s1', 'armhf');
  const repo = await startChartRepo(t, dir, 'hello-chart', '1.2.3');
  await writeApps(dir);
  const env = { PIKUBE_CACHE: join(dir, 'cache') };
  const values = { message: 'from the recipe', replicas: 3 };
  const recipeOf = (manifests: string[], charts: unknown[]) => ({
    base: 'base.img', mirror: mirror.url, user: USER, kubernetes: { distribution: 'k3s' },
    manifests, charts,
    cluster: { nodes: [{ hostname: 'pi-1', role: 'server' }, { hostname: 'pi-2', role: 'agent' }] },
  });
  const charts = [{ repo: repo.url, name: 'hello-chart', version: '1.2.3', namespace: 'demo', values }];
  const recipe = await writeRecipe(dir, recipeOf(['apps/web', 'apps/config.yaml'], charts));

  const plan = await runCli(['plan', '-c', recipe], { env });
  t.is(plan.exitCode, 0, plan.stderr);
  const serverPlan = plan.stdout.split('== pi-2')[0] ?? '';
  t.regex(serverPlan, /\/var\/lib\/rancher\/k3s\/server\/manifests\/pikube-1-apps_web_00-namespace\.yaml .*<- manifests: apps\/web\/00-namespace\.yaml \(Namespace web\)/);
  t.regex(serverPlan, /pikube-2-apps_web_hello\.yaml .*<- manifests: apps\/web\/hello\.yaml \(Deployment hello, Service hello\)/);
  t.regex(serverPlan, /pikube-3-apps_config\.yaml .*<- manifests: apps\/config\.yaml \(ConfigMap settings\)/);
  t.regex(serverPlan, /pikube-chart-hello-chart\.yaml .*<- charts: hello-chart 1\.2\.3 into namespace demo/);
  t.notRegex(plan.stdout.split('== pi-2')[1] ?? '', /manifests: |charts: /, 'the agent gets no apps');

  const output = join(dir, 'cluster');
  const built = await runCli(['build', '-c', recipe, '-o', output], { env });
  t.is(built.exitCode, 0, built.stderr);
  const server = join(output, 'pi-1.img');
  const read = async (image: string, path: string) => (await readRootFile(image, path, dir))?.toString() ?? '';
  t.is(await read(server, `${K3S_MANIFESTS}/pikube-1-apps_web_00-namespace.yaml`), NAMESPACE);
  t.is(await read(server, `${K3S_MANIFESTS}/pikube-2-apps_web_hello.yaml`), DEPLOYMENT);
  const chartPath = `${K3S_MANIFESTS}/pikube-chart-hello-chart.yaml`;
  t.like((await statInImage(server, [chartPath])).get(chartPath), { type: 'regular', mode: 0o600, uid: 0 });
  const helmChart = parse(await read(server, chartPath)) as { apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: { chartContent: string; targetNamespace: string; createNamespace: boolean; valuesContent: string } };
  t.like(helmChart, { apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart', metadata: { name: 'hello-chart', namespace: 'kube-system' }, spec: { targetNamespace: 'demo', createNamespace: true } });
  t.deepEqual(Buffer.from(helmChart.spec.chartContent, 'base64'), repo.tarball, 'the chart travels inside the image');
  t.deepEqual(parse(helmChart.spec.valuesContent), values);
  const agentFiles = await statInImage(join(output, 'pi-2.img'), [`${K3S_MANIFESTS}/pikube-1-apps_web_00-namespace.yaml`, chartPath]);
  t.is(agentFiles.get(chartPath), undefined, 'agents run no deploy controller');
  const record = JSON.parse(await read(server, '/etc/pikube/build.json')) as { inputs: Array<{ role: string; name: string; sha256: string }> };
  t.true(record.inputs.some((input) => input.role === 'chart' && input.name === 'hello-chart-1.2.3.tgz' && input.sha256 === repo.sha256));

  // Offline, the chart comes from the cache (index.yaml included).
  const offline = await runCli(['plan', '-c', recipe, '--offline'], { env });
  t.is(offline.exitCode, 0, offline.stderr);

  // A bad manifest is refused with its file, document, object and field; nothing is written.
  await writeFile(join(dir, 'apps', 'web', 'hello.yaml'), DEPLOYMENT.replace('replicas: 2', 'replicas: two'));
  const bad = await runCli(['build', '-c', recipe, '-o', join(dir, 'bad')], { env });
  t.is(bad.exitCode, 1, bad.stderr);
  t.regex(bad.stderr, /manifests: apps\/web\/hello\.yaml, document 1 \(Deployment hello\): field spec\.replicas: must be integer/);
  await writeFile(join(dir, 'apps', 'web', 'hello.yaml'), DEPLOYMENT.replace('  name: hello\n  namespace', '  namespace'));
  const unnamed = await runCli(['build', '-c', recipe, '-o', join(dir, 'bad')], { env });
  t.regex(unnamed.stderr, /apps\/web\/hello\.yaml, document 1 \(Deployment\): field metadata\.name: missing/);
  await writeFile(join(dir, 'apps', 'web', 'hello.yaml'), DEPLOYMENT);

  // A repository whose tarball is not the one its index names, and a chart that is not the one asked for.
  repo.serve('/charts/hello-chart-1.2.3.tgz', Buffer.concat([repo.tarball, Buffer.from('x')]));
  const fresh = { PIKUBE_CACHE: join(dir, 'cache2') };
  const mismatch = await runCli(['build', '-c', recipe, '-o', join(dir, 'bad')], { env: fresh });
  t.is(mismatch.exitCode, 1);
  t.regex(mismatch.stderr, /checksum mismatch for http:\/\/127\.0\.0\.1:\d+\/charts\/hello-chart-1\.2\.3\.tgz/);
  await writeRecipe(dir, recipeOf([], [{ chart: 'hello-chart-1.2.3.tgz', name: 'other', version: '1.2.3' }]));
  const wrong = await runCli(['plan', '-c', recipe], { env: fresh });
  t.is(wrong.exitCode, 1);
  t.regex(wrong.stderr, /charts\[0\]: the tarball's Chart\.yaml names hello-chart 1\.2\.3, not other 1\.2\.3/);
  t.false((await readdir(dir)).some((name) => name === 'bad' || name.startsWith('.bad')), 'no output is left by a refused build');
});

test('static: manifests go to the server\'s apps folder and first boot applies them after the addons; charts are refused with a hint', async (t) => {
  const { registry, dir, mirror } = await startStaticWorld(t, 'v1.37.1');
  await writeApps(dir);
  const env = { PIKUBE_CACHE: join(dir, 'cache') };
  const recipeOf = (extra: Record<string, unknown>, nodes = [{ hostname: 'pi-1', role: 'server', network: { address: '192.168.1.50/24', gateway: '192.168.1.1' } }, { hostname: 'pi-2', role: 'agent' }]) => ({
    base: 'base.img', mirror: mirror.url, registryMirror: registry.open.url, user: USER,
    kubernetes: { distribution: 'static', version: 'v1.37.1' }, cluster: { nodes }, ...extra,
  });
  const charted = await writeRecipe(dir, recipeOf({ charts: [{ chart: 'x.tgz' }] }));
  const refused = await runCli(['plan', '-c', charted], { env });
  t.is(refused.exitCode, 1);
  t.regex(refused.stderr, /charts.*the static profile has no Helm controller to install charts: render the chart on your computer \(`helm template/s);

  const recipe = await writeRecipe(dir, recipeOf({ manifests: ['apps'] }));
  const output = join(dir, 'cluster');
  const built = await runCli(['build', '-c', recipe, '-o', output], { env });
  t.is(built.exitCode, 0, built.stderr);
  const server = join(output, 'pi-1.img');
  const read = async (image: string, path: string) => (await readRootFile(image, path, dir))?.toString() ?? '';
  t.is(await read(server, '/etc/kubernetes/apps/1-apps_config.yaml'), (await readFile(join(dir, 'apps', 'config.yaml'), 'utf8')));
  t.is(await read(server, '/etc/kubernetes/apps/2-apps_web_00-namespace.yaml'), NAMESPACE);
  const docs = parseAllDocuments(await read(server, '/etc/kubernetes/apps/3-apps_web_hello.yaml')).map((d) => (d.toJS() as { kind: string }).kind);
  t.deepEqual(docs, ['Deployment', 'Service']);
  t.regex(await read(server, '/etc/pikube/firstboot.env'), /^PIKUBE_APPS=\/etc\/kubernetes\/apps$/m);
  t.notRegex(await read(join(output, 'pi-2.img'), '/etc/pikube/firstboot.env'), /PIKUBE_APPS/);
  t.regex(await read(server, '/usr/local/lib/pikube/firstboot.sh'), /apply_addons\n\s+apply_apps\n/);

  // The static cluster keeps its secrets too: a new agent built alone joins with the same CA and bootstrap token.
  const before = sha256(await readFile(join(output, 'pi-2.img')));
  await writeRecipe(dir, recipeOf({ manifests: ['apps'] }, [{ hostname: 'pi-1', role: 'server', network: { address: '192.168.1.50/24', gateway: '192.168.1.1' } }, { hostname: 'pi-2', role: 'agent' }, { hostname: 'pi-3', role: 'agent' }]));
  const added = await runCli(['build', '-c', recipe, '-o', output, '--offline', '--only', 'pi-3'], { env });
  t.is(added.exitCode, 0, added.stderr);
  const statuses = (JSON.parse(await readFile(join(output, 'cluster.json'), 'utf8')) as { nodes: Array<{ hostname: string; status: string }> }).nodes.map((n) => [n.hostname, n.status]);
  t.deepEqual(statuses, [['pi-1', 'stale'], ['pi-2', 'stale'], ['pi-3', 'written']], 'the others would change (their routes to the new node\'s pods), and --only keeps them');
  t.is(sha256(await readFile(join(output, 'pi-2.img'))), before, 'pi-2 is kept byte for byte');
  const bootstrap = (image: string) => read(image, '/etc/kubernetes/bootstrap-kubelet.conf').then((text) => parse(text) as { clusters: Array<{ cluster: { 'certificate-authority-data': string } }>; users: Array<{ user: { token: string } }> });
  const [oldAgent, newAgent] = [await bootstrap(join(output, 'pi-2.img')), await bootstrap(join(output, 'pi-3.img'))];
  t.is(newAgent.users[0]?.user.token, oldAgent.users[0]?.user.token);
  t.is(Buffer.from(newAgent.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString(), await read(server, '/etc/kubernetes/pki/ca.crt'));
});
