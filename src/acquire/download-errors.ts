import { ToolError, UserError } from '../errors.ts';
import { errorCodeOf, httpStatusOf, isTransientStatus } from './retry-policy.ts';

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_|ERR_SSL_|EPROTO$|HOSTNAME_MISMATCH)/;

// Turns a failed transfer into the error a user can act on; `attempts` says how hard pikube tried.
export function explainDownloadError(error: unknown, url: string, attempts: number, cacheDir: string): Error {
  if (error instanceof UserError || error instanceof ToolError) return error;
  const host = hostOf(url);
  const status = httpStatusOf(error);
  const code = errorCodeOf(error);
  const tried = attempts > 1 ? ` after ${attempts} attempts` : '';
  if (status === 404 || status === 410) {
    return new UserError(`${url} was not found (HTTP ${status})`, 'check the URL; with a mirror, check that it holds HOST/PATH of the original URL');
  }
  if (status === 401 || status === 403) {
    return new UserError(`${host} refused access to ${url} (HTTP ${status})`, 'check the URL and that the file is public, or use a mirror you can read');
  }
  if (status !== undefined && status < 500 && !isTransientStatus(status)) {
    return new UserError(`${url} answered HTTP ${status}`, 'check the URL');
  }
  if (status !== undefined) {
    return new ToolError({ command: `GET ${url}`, message: `${host} kept failing with HTTP ${status}${tried} for ${url}`, hint: 'the server is having trouble: try again later, or use --mirror' }, { cause: error });
  }
  // No answer for the name is the network's failure (offline, no DNS server, a captive portal), exit 2 as the
  // README's table says for an unreachable network; a mistyped host looks the same, so the hint names both.
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ToolError({ command: `GET ${url}`, message: `cannot resolve ${host} (DNS lookup failed${code === 'EAI_AGAIN' ? ', no DNS server answered' : ''})${tried} for ${url}`,
      hint: 'check the network connection and DNS, and the host name; without internet use --mirror URL, or --offline with a filled cache' }, { cause: error });
  }
  if (code === 'ECONNREFUSED') {
    return new UserError(`${host} refused the connection for ${url}`, 'check the host and port; is the mirror running?');
  }
  if (code && TLS_CODES.test(code)) {
    return new UserError(`TLS failure talking to ${host}: ${messageOf(error)} (${code})`,
      'check the machine\'s clock and CA certificates; behind an intercepting proxy, point NODE_EXTRA_CA_CERTS at its certificate');
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new UserError(`the disk holding the cache is full (${cacheDir}) while downloading ${url}`, 'free space there, or choose another cache with --cache DIR or PIKUBE_CACHE');
  }
  if (code === 'ETIMEDOUT') {
    return new ToolError({ command: `GET ${url}`, message: `${host} stopped sending data (timed out)${tried} for ${url}`, hint: 'check the network; the partial download is kept and resumes next time' }, { cause: error });
  }
  return new ToolError({ command: `GET ${url}`, message: `download of ${url} failed${tried}: ${messageOf(error)}${code ? ` (${code})` : ''}`, hint: 'the partial download is kept and resumes next time' }, { cause: error });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
