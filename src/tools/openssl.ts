import { ToolError } from '../errors.ts';
import { runTool } from './run.ts';

// SHA-512 crypt, the format /etc/shadow and cloud-init's `passwd` expect; node:crypto has no crypt(3).
export async function hashPassword(password: string, salt: string): Promise<string> {
  const result = await runTool('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: `${password}\n` });
  return result.stdout.trim();
}

// sha256 of a whole file in a child process: OpenSSL uses the CPU's SHA instructions, and the build can hash
// the image while it makes the block map on the other core.
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const result = await runTool('openssl', ['dgst', '-sha256', '-r', path], { cancelSignal: signal });
  const digest = /^([0-9a-f]{64})/.exec(result.stdout.trim())?.[1];
  if (!digest) throw new ToolError({ command: `openssl dgst -sha256 -r ${path}`, message: `openssl printed no sha256 for ${path}: ${result.stdout.slice(0, 200)}` });
  return digest;
}
