import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { execa } from 'execa';
import { stringify } from 'yaml';

export interface ChartRepo {
  url: string;
  tarball: Buffer;
  sha256: string;
  // Replaces what the repository serves at a path (index.yaml, the .tgz).
  serve(path: string, body: Buffer | string): void;
}

// Packages a small Helm chart the way `helm package` lays it out (NAME/Chart.yaml, values.yaml, templates/) into
// NAME-VERSION.tgz under `dir`.
export async function packChart(dir: string, name: string, version: string): Promise<{ path: string; tarball: Buffer }> {
  const root = join(dir, 'chart-src');
  await mkdir(join(root, name, 'templates'), { recursive: true });
  await writeFile(join(root, name, 'Chart.yaml'), stringify({ apiVersion: 'v2', name, version, description: 'a test chart' }));
  await writeFile(join(root, name, 'values.yaml'), 'message: hello\n');
  await writeFile(join(root, name, 'templates', 'configmap.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  message: {{ .Values.message | quote }}\n');
  const path = join(dir, `${name}-${version}.tgz`);
  await execa('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', path, '-C', root, name]);
  return { path, tarball: await readFile(path) };
}

// A Helm chart repository on 127.0.0.1 (index.yaml and the chart's .tgz, as `helm repo index` writes them), closed
// when the test ends.
export async function startChartRepo(t: ExecutionContext, dir: string, name: string, version: string): Promise<ChartRepo> {
  const { tarball } = await packChart(dir, name, version);
  const sha256 = createHash('sha256').update(tarball).digest('hex');
  const bodies = new Map<string, Buffer>();
  const serve = (path: string, body: Buffer | string) => bodies.set(path, Buffer.from(body));
  const server = createServer((request, response) => {
    const body = bodies.get(new URL(request.url ?? '/', 'http://repo').pathname);
    if (!body) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/charts`;
  serve('/charts/index.yaml', stringify({
    apiVersion: 'v1',
    entries: { [name]: [{ apiVersion: 'v2', name, version, digest: sha256, urls: [`${name}-${version}.tgz`], created: '2026-01-01T00:00:00Z' }] },
    generated: '2026-01-01T00:00:00Z',
  }));
  serve(`/charts/${name}-${version}.tgz`, tarball);
  return { url, tarball, sha256, serve };
}
