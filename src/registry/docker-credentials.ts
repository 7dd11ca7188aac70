import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { log } from '../log.ts';

// A user name and password for one registry, as `docker login` stored them.
export interface Credentials {
  username: string;
  password: string;
  // Where they came from, for error messages.
  source: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

// The docker config file `docker login` writes: $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
export function defaultDockerConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG;
  return dir ? join(dir, 'config.json') : join(homedir(), '.docker', 'config.json');
}

// The user:password `docker login` stored for this registry host, if any (credential helpers are not run).
export async function findCredentials(host: string, configPath: string = defaultDockerConfigPath()): Promise<Credentials | undefined> {
  let text: string;
  try {
    text = await readFile(configPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let config: DockerConfig;
  try {
    config = JSON.parse(text) as DockerConfig;
  } catch (error) {
    throw new UserError(`${configPath} is not valid JSON: ${(error as Error).message}`, 'fix or remove the file (docker login rewrites it)', { cause: error });
  }
  const keys = host === 'docker.io' ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'] : [host];
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (!keys.includes(stripScheme(key))) continue;
    const source = `${configPath} (auths["${key}"])`;
    if (entry.username && entry.password) return { username: entry.username, password: entry.password, source };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw new UserError(`the auth entry for ${host} in ${configPath} is not base64 of user:password`, `run docker login ${host} again, or fix the entry`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
    }
  }
  if (config.credHelpers?.[host] || config.credsStore) {
    log.debug(`${configPath} keeps credentials for ${host} in a credential helper, which pikube does not run; pulling anonymously`);
  }
  return undefined;
}

function stripScheme(key: string): string {
  const match = /^https?:\/\/([^/]+)(\/v1\/?)?\/?$/.exec(key);
  if (!match?.[1]) return key;
  return match[2] && match[1] === 'index.docker.io' ? 'https://index.docker.io/v1/' : match[1];
}
