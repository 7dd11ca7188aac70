import test from 'ava';
import { execa } from 'execa';
import { FIRSTBOOT_SCRIPT } from '../../src/kube/firstboot.ts';
import { appendKernelFlags, CGROUP_FLAGS } from '../../src/kube/pi-fixes.ts';

test('the first-boot script passes bash -n and shellcheck', async (t) => {
  t.is((await execa('bash', ['-n', FIRSTBOOT_SCRIPT], { reject: false })).exitCode, 0);
  const check = await execa('shellcheck', ['--severity=style', FIRSTBOOT_SCRIPT], { reject: false });
  t.is(check.exitCode, 0, String(check.stdout));
});

test('kernel flags are appended once to the one cmdline line, and not again on a second build', (t) => {
  const base = 'console=serial0,115200 console=tty1 root=PARTUUID=5452574f-02 rootfstype=ext4 cgroup_enable=cpuset rootwait';
  const once = appendKernelFlags(base, CGROUP_FLAGS);
  t.is(once, `${base} cgroup_enable=memory cgroup_memory=1`);
  t.is(appendKernelFlags(once, CGROUP_FLAGS), once);
  t.false(once.includes('\n'));
});
