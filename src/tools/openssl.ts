import { runTool } from './run.ts';

// SHA-512 crypt, the format /etc/shadow and cloud-init's `passwd` expect; node:crypto has no crypt(3).
export async function hashPassword(password: string, salt: string): Promise<string> {
  const result = await runTool('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: `${password}\n` });
  return result.stdout.trim();
}
