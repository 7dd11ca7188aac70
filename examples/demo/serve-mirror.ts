// DEMO AND TESTS ONLY: a real HTTP mirror on 127.0.0.1 laid out as pikube's --mirror expects (MIRROR/HOST/PATH).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MirrorServer {
  url: string;
  requests: string[];
  // Adds or replaces what the mirror serves for an upstream https URL.
  serve(upstream: string, body: Buffer | string): void;
  close(): Promise<void>;
}

// Starts the mirror on a free loopback port; it answers 404 for anything it was not given.
export async function startMirrorServer(files: Record<string, Buffer | string> = {}): Promise<MirrorServer> {
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
  const close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, serve, close };
}
