import { UserError } from '../errors.ts';

// An image name split the way the distribution protocol needs it.
export interface ImageReference {
  // The registry as named in the reference, e.g. docker.io, ghcr.io, 127.0.0.1:5000.
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

// Where the requests for one reference actually go (the registry itself or a mirror).
export interface RegistryEndpoint {
  // Where requests go: scheme, host and any path prefix, without the trailing /v2/.
  baseUrl: URL;
  // The repository name as this endpoint knows it (a mirror prefixes the original host).
  repository: string;
  // The host whose credentials apply (docker config `auths` key).
  credentialHost: string;
}

const DOCKER_HUB = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

// Reads a reference the way docker does: `alpine` is docker.io/library/alpine:latest, a first part with a dot, colon or `localhost` is a host.
export function parseImageReference(text: string): ImageReference {
  const bad = (why: string) => new UserError(`"${text}" is not an image reference: ${why}`, 'write it as [HOST/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. docker.io/library/alpine:3.20');
  let rest = text.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('the digest must be sha256: and 64 lowercase hex digits');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`the tag "${tag}" has characters a tag cannot have`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first;
    parts.shift();
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  if (parts.length === 0 || parts.some((part) => !COMPONENT.test(part))) throw bad('repository names are lowercase letters, digits and . _ - separated by /');
  return { registry, repository: parts.join('/'), ...(tag || !digest ? { tag: tag ?? 'latest' } : {}), ...(digest ? { digest } : {}) };
}

// The full name containerd and k3s look images up by: docker.io/library/alpine:3.20, or REPO@sha256:… without a tag.
export function formatImageReference(reference: ImageReference): string {
  const name = `${reference.registry}/${reference.repository}`;
  if (reference.tag && reference.digest) return `${name}:${reference.tag}@${reference.digest}`;
  return reference.tag ? `${name}:${reference.tag}` : `${name}@${reference.digest}`;
}

// The name runtimes store an image under: REPO:TAG when there is a tag (containerd and docker keep the tag), else REPO@DIGEST.
export function runtimeImageName(reference: ImageReference): string {
  const name = `${reference.registry}/${reference.repository}`;
  return reference.tag ? `${name}:${reference.tag}` : `${name}@${reference.digest}`;
}

// Where to send requests: the registry itself (docker.io is served by registry-1.docker.io), or a mirror that holds HOST/REPO under its own URL.
export function resolveEndpoint(reference: ImageReference, registryMirror?: string): RegistryEndpoint {
  if (registryMirror) {
    const mirror = parseMirrorUrl(registryMirror);
    const prefix = mirror.pathname.replace(/^\/+|\/+$/g, '');
    return {
      baseUrl: new URL(mirror.origin),
      repository: [prefix, reference.registry, reference.repository].filter(Boolean).join('/'),
      credentialHost: mirror.host,
    };
  }
  const host = reference.registry === DOCKER_HUB ? 'registry-1.docker.io' : reference.registry;
  return { baseUrl: new URL(`${schemeFor(host)}://${host}`), repository: reference.repository, credentialHost: reference.registry };
}

function parseMirrorUrl(text: string): URL {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `${schemeFor(text.split('/')[0] ?? '')}://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UserError(`registryMirror "${text}" is not a URL`, 'write it as https://HOST[:PORT][/PREFIX]');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UserError(`registryMirror "${text}" must be http or https`, 'write it as https://HOST[:PORT][/PREFIX]');
  return url;
}

// Plain http only for a registry on this machine (tests, a local cache); everything else is https.
function schemeFor(host: string): 'http' | 'https' {
  const name = host.replace(/:\d+$/, '');
  return name === '127.0.0.1' || name === 'localhost' || name === '[::1]' ? 'http' : 'https';
}
