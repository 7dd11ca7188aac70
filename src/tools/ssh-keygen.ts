import { runTool } from './run.ts';

// Makes one OpenSSH host key pair without a passphrase: PATH (the private key) and PATH.pub.
export async function generateSshHostKey(type: 'ed25519' | 'ecdsa' | 'rsa', path: string, comment: string, signal?: AbortSignal): Promise<void> {
  await runTool('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '3072'] : []), '-N', '', '-C', comment, '-f', path], { cancelSignal: signal });
}
