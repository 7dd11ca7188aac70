import { readFile } from 'node:fs/promises';
import { log } from '../log.ts';

// A kubeconfig whose server is a HOSTNAME.local name works only where mDNS resolves: say so beside the file.
export async function warnOnMdnsServer(kubeconfig: string): Promise<void> {
  const { describeMdnsServer } = await import('../kube/kubeconfig.ts');
  const warning = describeMdnsServer(await readFile(kubeconfig, 'utf8'), kubeconfig);
  if (warning) log.warn(warning);
}

// --kubeconfig-merge: the admin kubeconfig merged into the user's own as context `name`, and where it went.
export async function mergeAndReport(kubeconfig: string, name: string): Promise<void> {
  const { mergeKubeconfig } = await import('./merge-kubeconfig.ts');
  const merged = await mergeKubeconfig(kubeconfig, name);
  log.info(`merged the cluster into ${merged.path} as context ${merged.context}, now the current one${merged.backup ? ` (the file as it was: ${merged.backup})` : ''}: kubectl get nodes`);
}
