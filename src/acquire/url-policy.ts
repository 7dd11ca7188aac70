import { UserError } from '../errors.ts';

// https://HOST/PATH becomes MIRROR/HOST/PATH; other URLs are left alone.
export function applyMirror(url: string, mirror: string | undefined): string {
  if (!mirror) return url;
  if (!/^https?:\/\/[^/]/i.test(mirror)) {
    throw new UserError(`the mirror ${mirror} is not an http(s) URL`, 'write it like https://mirror.example/pikube or http://127.0.0.1:8080');
  }
  const parsed = parseUrl(url);
  if (parsed.protocol !== 'https:') return url;
  return `${mirror.replace(/\/+$/, '')}/${parsed.host}${parsed.pathname}${parsed.search}`;
}

// Only https travels the open network; plain http is for a loopback mirror or an explicit --allow-http.
export function checkUrlAllowed(url: string, allowHttp = false): void {
  const parsed = parseUrl(url);
  if (parsed.protocol === 'https:') return;
  if (parsed.protocol !== 'http:') {
    throw new UserError(`cannot download ${url}: only https (and http to a local mirror) are supported`, 'use an https:// URL, or a local path for a file you already have');
  }
  if (allowHttp || isLoopback(parsed.hostname)) return;
  throw new UserError(`refusing plain http for ${url}: it could be altered on the way`,
    'use https, a mirror on this machine (127.0.0.1), or pass --allow-http if you trust the network');
}

// Names and addresses that never leave this machine.
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new UserError(`not a valid URL: ${url}`, 'write it as https://host/path');
  }
}
