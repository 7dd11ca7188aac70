import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

export interface ProxyOptions {
  // Flip one byte in the body of GET blobs/<digest>.
  tamperDigest?: string;
  // Send only this many bytes of the first GET blobs/<digest>, then cut the connection.
  cut?: { digest: string; afterBytes: number };
  // Answer GET blobs/* with a 307 to this origin (as registry.k8s.io sends blob downloads to another host).
  redirectBlobsTo?: string;
  // Demand this user:password with Basic auth, like a registry behind htpasswd.
  basic?: { user: string; password: string };
}

export interface RunningProxy {
  url: string;
  host: string;
  seen: SeenRequest[];
  stop(): Promise<void>;
}

// An HTTP proxy on 127.0.0.1 (named hostName in its URL, e.g. localhost to look like another host) in front of a registry that records requests and can tamper with, cut or redirect blob downloads.
export async function startProxy(target: string, options: ProxyOptions = {}, hostName = '127.0.0.1'): Promise<RunningProxy> {
  const seen: SeenRequest[] = [];
  let cutDone = false;
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    seen.push({ method: req.method ?? 'GET', path, headers: req.headers });
    if (options.basic) {
      const expected = `Basic ${Buffer.from(`${options.basic.user}:${options.basic.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="pikube-test"', 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
    }
    const blob = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(path)?.[1];
    if (blob && options.redirectBlobsTo) {
      res.writeHead(307, { location: `${options.redirectBlobsTo}${path}` }).end();
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    if (options.basic) delete headers.authorization;
    const forward = request({ host: upstream.hostname, port: upstream.port, method: req.method, path, headers }, (upstreamRes) => {
      if (blob && blob === options.tamperDigest && upstreamRes.statusCode === 200) {
        const chunks: Buffer[] = [];
        upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
        upstreamRes.on('end', () => {
          const body = Buffer.concat(chunks);
          body[Math.floor(body.length / 2)] = (body[Math.floor(body.length / 2)] ?? 0) ^ 0xff;
          res.writeHead(200, upstreamRes.headers).end(body);
        });
        return;
      }
      if (blob && options.cut && blob === options.cut.digest && !cutDone && upstreamRes.statusCode === 200) {
        cutDone = true;
        const { afterBytes } = options.cut;
        res.writeHead(200, upstreamRes.headers);
        let sent = 0;
        upstreamRes.on('data', (chunk: Buffer) => {
          if (sent >= afterBytes) return;
          const part = chunk.subarray(0, afterBytes - sent);
          sent += part.length;
          res.write(part);
          if (sent >= afterBytes) setTimeout(() => res.socket?.destroy(), 50);
        });
        return;
      }
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${hostName}:${port}`,
    host: `${hostName}:${port}`,
    seen,
    stop: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
