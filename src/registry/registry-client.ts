import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, truncate } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import got, { RequestError, type Response } from 'got';
import type { AcquireOptions } from '../acquire/acquire-options.ts';
import { InterruptedError, ToolError, UserError } from '../errors.ts';
import { throwIfInterrupted } from '../interrupt.ts';
import { log } from '../log.ts';
import { commitPartialBlob, digestMismatch, digestOf, partialBlobPath } from './blob-store.ts';
import type { Credentials } from './docker-credentials.ts';
import type { RegistryEndpoint } from './image-reference.ts';
import type { Descriptor } from './manifest.ts';
import { MANIFEST_ACCEPT } from './manifest.ts';
import { parseWwwAuthenticate, type Challenge } from './www-authenticate.ts';
import { hashFilePrefix } from '../acquire/hash-file.ts';
import { isTransientError, isTransientStatus, retryTransient, TransientError, type RetrySettings } from '../acquire/retry-policy.ts';
import { waitForResponse } from '../acquire/wait-for-response.ts';

// One repository endpoint, the credentials to present there, and the acquire options' patience (retries, first delay).
export interface RegistryClientOptions extends Pick<AcquireOptions, 'retries' | 'retryDelayMs'> {
  endpoint: RegistryEndpoint;
  credentials?: Credentials;
  signal?: AbortSignal;
}

// A manifest body with the digest it hashes to.
export interface FetchedManifest {
  body: Buffer;
  contentType?: string;
  digest: string;
}

// A stalled connection (no bytes for a minute) counts as cut and is resumed.
const TIMEOUT = { connect: 15_000, response: 60_000, socket: 60_000 };

// Talks the OCI distribution protocol to one repository: the /v2/ probe, Basic or Bearer auth, manifests and resumable blobs.
export class RegistryClient {
  private readonly endpoint: RegistryEndpoint;
  private readonly credentials: Credentials | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly retry: RetrySettings;
  private authorization: string | undefined;
  private challenge: Challenge | undefined;
  private authorizing: Promise<void> | undefined;
  private probed = false;

  constructor(options: RegistryClientOptions) {
    this.endpoint = options.endpoint;
    this.credentials = options.credentials;
    this.signal = options.signal;
    this.retry = { retries: options.retries, retryDelayMs: options.retryDelayMs, signal: options.signal };
  }

  // The registry as users know it, for messages: host[:port]/repository.
  get name(): string {
    return `${this.endpoint.baseUrl.host}/${this.endpoint.repository}`;
  }

  // GET /v2/<repo>/manifests/<tag-or-digest>, verified against the digest when one was asked for.
  async fetchManifest(reference: string): Promise<FetchedManifest> {
    const url = this.url(`manifests/${reference}`);
    const response = await this.request(url, { accept: MANIFEST_ACCEPT.join(', ') });
    if (response.statusCode === 404) {
      throw new UserError(`${this.name}:${reference} was not found`, 'check the repository name and tag (docker.io single names are library/NAME)');
    }
    if (response.statusCode !== 200) throw this.httpError(url, response);
    const body = response.body;
    const digest = digestOf(body);
    const expected = reference.startsWith('sha256:') ? reference : firstHeader(response.headers['docker-content-digest']);
    if (expected?.startsWith('sha256:') && expected !== digest) throw digestMismatch(expected, digest, `GET ${url}`);
    return { body, contentType: firstHeader(response.headers['content-type']), digest };
  }

  // Streams a blob into the cache through its digest check, resuming a partial file with a Range request after a cut.
  async downloadBlob(descriptor: Descriptor, cacheDir: string): Promise<void> {
    const progress = { from: 0, to: 0 };
    const url = this.url(`blobs/${descriptor.digest}`);
    await retryTransient(() => this.downloadBlobOnce(descriptor, cacheDir, progress), this.retry, {
      label: `  ${shortDigest(descriptor.digest)}`,
      progressed: () => progress.to > progress.from,
      resumeNote: () => (progress.to > 0 ? `, resuming at byte ${progress.to}` : ''),
      explain: (error, attempts) => {
        if (!isTransientError(error) && !(error instanceof RequestError)) return error;
        return new ToolError({ command: `GET ${url}`, message: `fetching ${descriptor.digest} from ${this.name} failed${attempts > 1 ? ` ${attempts} times` : ''}: ${(error as Error).message}`, hint: 'run the pull again: it resumes from what was already fetched' }, { cause: error });
      },
    });
  }

  // One attempt; `progress` says which bytes it added (from..to), so a cut that moved forward starts the count again.
  private async downloadBlobOnce(descriptor: Descriptor, cacheDir: string, progress: { from: number; to: number }): Promise<void> {
    const partial = partialBlobPath(cacheDir, descriptor.digest);
    await mkdir(dirname(partial), { recursive: true });
    let { hash, size: have } = await hashFilePrefix(partial);
    if (have > descriptor.size) {
      await rm(partial, { force: true });
      ({ hash, size: have } = await hashFilePrefix(partial));
    }
    progress.from = have;
    progress.to = have;
    const url = this.url(`blobs/${descriptor.digest}`);
    if (have < descriptor.size) {
      const stream = await this.openBlobStream(url, have);
      const resumed = stream.statusCode === 206;
      if (!resumed && have > 0) {
        await truncate(partial, 0);
        ({ hash, size: have } = { hash: createHash('sha256'), size: 0 });
      }
      if (resumed) log.debug(`resuming ${descriptor.digest} at byte ${have}`);
      let received = have;
      progress.from = have;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          received += chunk.length;
          progress.to = received;
          if (received > descriptor.size) {
            callback(new ToolError({ command: `GET ${url}`, message: `${descriptor.digest} from ${url} is larger than the ${descriptor.size} bytes its manifest says` }));
            return;
          }
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      try {
        await pipeline(stream.body, counter, createWriteStream(partial, { flags: have > 0 ? 'a' : 'w' }));
      } catch (error) {
        if (this.signal?.aborted) throw new InterruptedError();
        if (isTransientError(error)) throw new TransientError(`connection cut after ${received} of ${descriptor.size} bytes (${(error as Error).message})`, { cause: error });
        throw error;
      }
      if (received < descriptor.size) throw new TransientError(`connection ended after ${received} of ${descriptor.size} bytes`);
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== descriptor.digest) {
      await rm(partial, { force: true });
      if (have > 0) throw new TransientError(`the resumed copy of ${shortDigest(descriptor.digest)} did not verify; fetching it again from the start`);
      throw digestMismatch(descriptor.digest, actual, `GET ${url}`);
    }
    await commitPartialBlob(cacheDir, descriptor.digest);
  }

  private async openBlobStream(url: string, offset: number): Promise<{ statusCode: number; body: NodeJS.ReadableStream }> {
    for (let authTries = 0; ; authTries += 1) {
      await this.ensureAuthorized();
      const headers: Record<string, string> = { ...this.authHeader() };
      if (offset > 0) headers.range = `bytes=${offset}-`;
      const stream = got.stream(url, { headers, throwHttpErrors: false, retry: { limit: 0 }, timeout: TIMEOUT, signal: this.signal });
      let response: Response;
      try {
        response = await waitForResponse(stream);
      } catch (error) {
        if (this.signal?.aborted) throw new InterruptedError();
        if (isTransientError(error)) throw new TransientError(`could not connect (${(error as Error).message})`, { cause: error });
        throw error;
      }
      const status = response.statusCode;
      if (status === 200 || (status === 206 && contentRangeStart(response.headers['content-range']) === offset)) return { statusCode: status, body: stream };
      stream.destroy();
      if (status === 401 && authTries === 0) {
        await this.reauthorize(response);
        continue;
      }
      if (status === 206 || status === 416) {
        throw new TransientError(`the registry answered the resume request with ${status} ${response.headers['content-range'] ?? ''}`.trim());
      }
      if (isTransientStatus(status)) throw new TransientError(`the registry answered ${status}`);
      if (status === 401 || status === 403) throw this.authError(response);
      throw new ToolError({ command: `GET ${url}`, message: `${this.name} answered ${status} for ${url}` });
    }
  }

  // A buffered GET with auth; retries once after refreshing a rejected token.
  private async request(url: string, headers: Record<string, string>): Promise<Response<Buffer>> {
    for (let authTries = 0; ; authTries += 1) {
      await this.ensureAuthorized();
      const response = await this.get(url, { ...headers, ...this.authHeader() });
      if (response.statusCode !== 401) return response;
      if (authTries > 0) throw this.authError(response);
      await this.reauthorize(response);
    }
  }

  // A buffered GET under the retry policy; a transient status that outlasts it is answered as an HTTP error.
  private async get(url: string, headers: Record<string, string>): Promise<Response<Buffer>> {
    throwIfInterrupted(this.signal);
    let last: Response<Buffer> | undefined;
    try {
      return await retryTransient(async () => {
        const response = await got(url, { headers, throwHttpErrors: false, responseType: 'buffer', retry: { limit: 0 }, timeout: TIMEOUT, signal: this.signal });
        last = response;
        if (isTransientStatus(response.statusCode)) throw new TransientError(`${new URL(url).host} answered ${response.statusCode}`);
        return response;
      }, this.retry, { label: `GET ${url}` });
    } catch (error) {
      if (this.signal?.aborted) throw new InterruptedError();
      if (error instanceof TransientError && last) throw this.httpError(url, last);
      throw new ToolError({
        command: `GET ${url}`,
        message: `could not reach ${new URL(url).host}: ${(error as Error).message}`,
        hint: 'check the network and the registry name; --offline pulls from the cache, registryMirror pulls through a mirror',
      }, { cause: error });
    }
  }

  private url(path: string): string {
    return new URL(`/v2/${this.endpoint.repository}/${path}`, this.endpoint.baseUrl).toString();
  }

  private authHeader(): Record<string, string> {
    return this.authorization ? { authorization: this.authorization } : {};
  }

  // The /v2/ probe, once: 200 means anonymous access, 401 names the scheme and (for Bearer) the token service.
  private async ensureAuthorized(): Promise<void> {
    if (this.probed) return;
    this.authorizing ??= (async () => {
      const response = await this.get(new URL('/v2/', this.endpoint.baseUrl).toString(), {});
      if (response.statusCode === 401) await this.authorizeFrom(response);
      else if (response.statusCode !== 200) throw this.httpError(new URL('/v2/', this.endpoint.baseUrl).toString(), response);
      this.probed = true;
    })().finally(() => {
      this.authorizing = undefined;
    });
    await this.authorizing;
  }

  private async reauthorize(response: Response): Promise<void> {
    this.authorizing ??= this.authorizeFrom(response).finally(() => {
      this.authorizing = undefined;
    });
    await this.authorizing;
  }

  private async authorizeFrom(response: Response): Promise<void> {
    const header = response.headers['www-authenticate'];
    const challenges = parseWwwAuthenticate(Array.isArray(header) ? header.join(', ') : header ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer?.params.realm) {
      this.challenge = bearer;
      this.authorization = `Bearer ${await this.fetchToken(bearer)}`;
    } else if (basic) {
      if (!this.credentials) {
        throw new UserError(`${this.endpoint.baseUrl.host} needs a user name and password`, `log in once with docker login ${this.endpoint.credentialHost} (pikube reads ~/.docker/config.json or $DOCKER_CONFIG/config.json)`);
      }
      if (this.authorization?.startsWith('Basic ')) throw this.authError(response);
      this.authorization = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
    } else {
      throw new ToolError({ command: `GET ${response.url}`, message: `${this.endpoint.baseUrl.host} asked for authentication pikube does not speak: ${String(header ?? '(no WWW-Authenticate header)')}` });
    }
  }

  // The token flow: GET realm?service=…&scope=repository:REPO:pull, with the user's credentials when there are any.
  private async fetchToken(challenge: Challenge): Promise<string> {
    const realm = challenge.params.realm ?? '';
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new ToolError({ command: `GET ${this.endpoint.baseUrl}v2/`, message: `${this.endpoint.baseUrl.host} named a token service that is not a URL: "${realm}"` });
    }
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.set('scope', `repository:${this.endpoint.repository}:pull`);
    const headers: Record<string, string> = {};
    if (this.credentials) headers.authorization = `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
    const response = await this.get(url.toString(), headers);
    if (response.statusCode === 401 || response.statusCode === 403) {
      throw this.credentials
        ? new UserError(`the token service ${url.origin}${url.pathname} rejected the credentials of "${this.credentials.username}" from ${this.credentials.source} (${response.statusCode})`, `log in again with docker login ${this.endpoint.credentialHost}, or remove the stale entry`)
        : new UserError(`the token service ${url.origin}${url.pathname} refused an anonymous token for ${this.endpoint.repository} (${response.statusCode})`, `a private repository needs docker login ${this.endpoint.credentialHost} first; otherwise check the repository name`);
    }
    if (response.statusCode !== 200) throw this.httpError(url.toString(), response);
    let token: unknown;
    try {
      const json = JSON.parse(response.body.toString('utf8')) as { token?: unknown; access_token?: unknown };
      token = json.token ?? json.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token.length === 0) throw new ToolError({ command: `GET ${url}`, message: `the token service ${url.origin}${url.pathname} answered without a token` });
    return token;
  }

  private authError(response: Response): UserError {
    const header = response.headers['www-authenticate'];
    const reason = parseWwwAuthenticate(Array.isArray(header) ? header.join(', ') : header ?? '')[0]?.params.error ?? registryErrorText(response.body);
    const via = this.challenge?.params.realm ? ` the token from ${this.challenge.params.realm}` : this.credentials ? ` the credentials from ${this.credentials.source}` : ' anonymous access';
    return new UserError(
      `${this.endpoint.baseUrl.host} rejected${via} for ${this.endpoint.repository} (${response.statusCode}${reason ? `: ${reason}` : ''})`,
      `check the credentials with docker login ${this.endpoint.credentialHost}; a private repository needs them`,
    );
  }

  private httpError(url: string, response: Response): ToolError {
    const detail = registryErrorText(response.body);
    return new ToolError({ command: `GET ${url}`, message: `${new URL(url).host} answered ${response.statusCode} for ${url}${detail ? `: ${detail}` : ''}` });
  }
}

// The first 12 hex digits of a digest, as docker prints layers in progress lines.
export function shortDigest(digest: string): string {
  return digest.slice(7, 19);
}

function contentRangeStart(header: string | undefined): number | undefined {
  const match = /^bytes (\d+)-/.exec(header ?? '');
  return match?.[1] ? Number(match[1]) : undefined;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function registryErrorText(body: unknown): string {
  if (!Buffer.isBuffer(body) && typeof body !== 'string') return '';
  const text = body.toString();
  try {
    const json = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    return (json.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(' ')).join('; ');
  } catch {
    return text.slice(0, 200).trim();
  }
}
