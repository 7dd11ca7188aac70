import { UserError } from '../errors.ts';
import type { BuildIdentity } from '../plan/build-record.ts';
import type { LoginExpectation } from './login-report.ts';
import type { GuestNetwork, Machine } from './machines.ts';

// --ssh (on), --no-ssh (off), or neither (auto: log in when the card was built with a user and an SSH key).
export type LoginMode = 'auto' | 'on' | 'off';

// Whether boot-test logs in, as whom and what it expects to find, or why it does not.
export type LoginPlan = { login: true; expected: LoginExpectation; guestNetwork?: GuestNetwork } | { login: false; reason?: string };

// Decides the login from the flag, the card's build record and the machine, before anything boots: --ssh on a card
// or machine that cannot take it is a UserError; auto mode says why it skips.
export function planLogin(mode: LoginMode, identity: BuildIdentity | undefined, machine: Machine, image: string): LoginPlan {
  if (mode === 'off') return { login: false };
  const user = identity?.user;
  if (!user || identity.sshAuthorizedKeys === 0) {
    if (mode === 'on') {
      throw new UserError(`${image} was not built with a user and an SSH key, so boot-test has nobody to log in as`,
        'give the recipe `user: {name: …, sshAuthorizedKeys: [\'ssh-ed25519 …\']}` and build again, or leave out --ssh');
    }
    return { login: false };
  }
  if (!machine.nic) {
    const reason = `${machine.name} has no network in QEMU (the Pi's Ethernet is a USB chip it does not emulate); --machine virt logs in over SSH`;
    if (mode === 'on') throw new UserError(`boot-test cannot log in to ${machine.name}: it has no network in QEMU`, 'use --machine virt with --ssh');
    return { login: false, reason };
  }
  return {
    login: true,
    expected: {
      user, ...(identity.hostname ? { hostname: identity.hostname } : {}),
      ...(identity.network ? { network: { interface: identity.network.interface, address: identity.network.address } } : {}),
    },
    ...(identity.network ? { guestNetwork: { address: identity.network.address, gateway: identity.network.gateway } } : {}),
  };
}
