import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { MACHINE_NAMES, parseMachine } from '../boot-test/machines.ts';
import { UserError } from '../errors.ts';
import { runSignal } from '../interrupt.ts';
import { ensureTools } from '../tools/check-tools.ts';
import { COMMAND_SUMMARIES } from './command-table.ts';

interface BootTestFlags {
  machine?: string;
  timeout: string;
  nodeWait: string;
  kernel?: string;
  dtb?: string;
  initrd?: string;
  keepCopy?: string;
  log?: string;
  ssh?: boolean;
  sshKey?: string;
}

// `pikube boot-test IMAGE`: boots a copy of a built image in QEMU and reports what its first boot did.
export function registerBootTestCommand(program: Command): void {
  program
    .command('boot-test')
    .description(COMMAND_SUMMARIES['boot-test'])
    .argument('<image>', 'an image made by pikube build')
    .option('--machine <name>', `emulated machine: ${MACHINE_NAMES.join(', ')} (default raspi3b for arm64, raspi2b for armhf)`)
    .option('--timeout <seconds>', 'hard limit for the whole boot', '600')
    .option('--node-wait <seconds>', 'how long first boot waits for the k3s node in test mode', '60')
    .option('--kernel <file>', 'kernel instead of the boot partition\'s kernel8.img / kernel7.img')
    .option('--dtb <file>', 'device tree instead of the boot partition\'s Pi 3 / Pi 2 tree')
    .option('--initrd <file>', 'initrd instead of the one config.txt names')
    .option('--keep-copy <file>', 'keep the booted copy here (to boot it again or look inside)')
    .option('--log <file>', 'where the console log is kept on failure (default IMAGE.boot-test.log)')
    .option('--ssh', 'log in over SSH as the recipe\'s user while the machine runs and check what a user checks first (default when the card was built with a user and an SSH key and the machine has a network: virt)')
    .option('--no-ssh', 'do not log in')
    .option('--ssh-key <file>', 'the private key to log in with (implies --ssh; default: your own SSH keys and agent)')
    .action(async (image: string, flags: BootTestFlags) => {
      const machine = parseMachine(flags.machine);
      if (flags.sshKey) await checkPrivateKey(resolve(flags.sshKey));
      await ensureTools('boot-test');
      const { bootAndReport } = await import('../boot-test/boot-and-report.ts');
      await bootAndReport({
        image: resolve(image),
        ...(machine ? { machine } : {}),
        timeoutSeconds: parseSeconds(flags.timeout, '--timeout'),
        nodeWaitSeconds: parseSeconds(flags.nodeWait, '--node-wait'),
        ...(flags.kernel ? { kernel: resolve(flags.kernel) } : {}),
        ...(flags.dtb ? { dtb: resolve(flags.dtb) } : {}),
        ...(flags.initrd ? { initrd: resolve(flags.initrd) } : {}),
        ...(flags.keepCopy ? { keepCopy: resolve(flags.keepCopy) } : {}),
        ...(flags.log ? { consoleLog: resolve(flags.log) } : {}),
        login: flags.ssh === false ? 'off' : flags.ssh || flags.sshKey ? 'on' : 'auto',
        ...(flags.sshKey ? { sshKey: resolve(flags.sshKey) } : {}),
        signal: runSignal,
      });
    });
}

// A missing or public key would only show up minutes later as a refused login: check it before booting.
async function checkPrivateKey(path: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`cannot read the SSH key ${path}: ${error.code ?? error.message}`, 'pass --ssh-key with the private key file whose .pub is in the recipe\'s user.sshAuthorizedKeys');
  });
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new UserError(`${path} is not a private key`, 'pass the private half (id_ed25519), not the .pub file the recipe lists');
  }
}

function parseSeconds(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UserError(`${flag} must be a whole number of seconds, got "${value}"`, `for example ${flag} 300`);
  return Number(value);
}
