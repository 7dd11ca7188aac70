import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { execa } from 'execa';

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
  // Every token request seen: the scope asked for and the user it came with (undefined when anonymous).
  requests: { scope: string | null; user: string | undefined }[];
  stop(): Promise<void>;
}

// Users the token service knows (anonymous users get tokens, except for private/* repositories). `mallory` logs in fine but gets a token signed by a key the registry does not trust.
export const TOKEN_USERS: Record<string, string> = { alice: 'wonderland', mallory: 'forged' };

// The key id distribution (libtrust) derives from a public key: base32 of the first 30 bytes of sha256(SPKI DER), in groups of 4.
export function libtrustKeyId(key: KeyObject): string {
  const digest = createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)?.join(':') ?? out;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function signJwt(header: object, claims: object, key: KeyObject): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

// A Docker token service (the realm of `auth: token:`): a self-signed ES256 cert made by openssl is the registry's
// rootcertbundle, and the JWTs carry its libtrust key id, which distribution 2.8 looks the key up by.
export async function startTokenServer(workDir: string, options: { allowAnonymous: boolean }): Promise<TokenServer> {
  const keyPath = join(workDir, 'token-key.pem');
  const certPath = join(workDir, 'token-cert.pem');
  await execa('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=pikube-test-token']);
  const key = createPrivateKey(await readFile(keyPath));
  const kid = libtrustKeyId(createPublicKey(key));
  const untrusted = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const service = 'pikube-test-registry';
  const issuer = 'pikube-test-issuer';
  const requests: TokenServer['requests'] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const scope = url.searchParams.get('scope');
    const user = parseBasic(req.headers.authorization);
    requests.push({ scope, user: user?.name });
    if (url.pathname !== '/token' || url.searchParams.get('service') !== service) {
      res.writeHead(400).end('{"errors":[{"code":"BAD_REQUEST"}]}');
      return;
    }
    const [type, name, actions] = (scope ?? '').split(':');
    const anonymousAllowed = options.allowAnonymous && !name?.startsWith('private/');
    if ((user && TOKEN_USERS[user.name] !== user.password) || (!user && !anonymousAllowed)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: issuer, sub: user?.name ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'),
      access: type && name ? [{ type, name, actions: (actions ?? '').split(',') }] : [],
    };
    const token = signJwt({ typ: 'JWT', alg: 'ES256', kid }, claims, user?.name === 'mallory' ? untrusted : key);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`, service, issuer, rootCertBundle: certPath, requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function parseBasic(header: string | undefined): { name: string; password: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
