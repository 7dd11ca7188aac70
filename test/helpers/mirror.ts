import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';

export interface Mirror {
  url: string;
  requests: string[];
  // Adds or replaces what the mirror serves for an upstream https URL.
  serve(upstream: string, body: Buffer | string): void;
}

// A real HTTP mirror on 127.0.0.1 laid out as pikube expects (MIRROR/HOST/PATH), closed when the test ends.
export async function startMirror(t: ExecutionContext, files: Record<string, Buffer | string> = {}): Promise<Mirror> {
  const bodies = new Map<string, Buffer>();
  const keyOf = (upstream: string) => {
    const url = new URL(upstream);
    return `/${url.host}${url.pathname}`;
  };
  const serve = (upstream: string, body: Buffer | string) => bodies.set(keyOf(upstream), Buffer.from(body));
  for (const [upstream, body] of Object.entries(files)) serve(upstream, body);
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://mirror').pathname;
    requests.push(path);
    const body = bodies.get(path);
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
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, serve };
}
