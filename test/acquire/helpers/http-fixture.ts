import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

export type Route = (request: IncomingMessage, response: ServerResponse, count: number) => void;

export interface Fixture {
  base: string;
  requests: SeenRequest[];
  route(path: string, handler: Route): void;
  close(): Promise<void>;
}

// A real HTTP server on 127.0.0.1 (random port) whose routes the test defines; it records every request.
export async function startFixture(): Promise<Fixture> {
  const routes = new Map<string, Route>();
  const counts = new Map<string, number>();
  const requests: SeenRequest[] = [];
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    requests.push({ method: request.method ?? 'GET', path, headers: request.headers });
    const count = (counts.get(path) ?? 0) + 1;
    counts.set(path, count);
    const handler = routes.get(path);
    if (!handler) {
      response.writeHead(404).end('not found');
      return;
    }
    handler(request, response, count);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    route: (path, handler) => routes.set(path, handler),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

// Serves body like a static file server: ETag, Content-Length and single Range requests.
export function serveBytes(body: Buffer): Route {
  return (request, response) => {
    const etag = '"fixture-1"';
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    const ifRange = request.headers['if-range'];
    if (range && (!ifRange || ifRange === etag)) {
      const start = Number(range[1]);
      if (start >= body.length) {
        response.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      response.writeHead(206, { 'content-length': body.length - start, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, etag });
      response.end(body.subarray(start));
      return;
    }
    response.writeHead(200, { 'content-length': body.length, etag });
    response.end(body);
  };
}

// Sends the headers and the first `bytes` bytes, then cuts the connection.
export function cutAfter(body: Buffer, bytes: number): Route {
  return (_request, response) => {
    response.writeHead(200, { 'content-length': body.length, etag: '"fixture-1"' });
    response.write(body.subarray(0, bytes), () => setTimeout(() => response.socket?.destroy(), 20));
  };
}
