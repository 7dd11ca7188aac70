import test from 'ava';
import { execa } from 'execa';
import { BOOT_TEST_UNIT_PATH, FIRSTBOOT_SCRIPT, planFirstBoot } from '../../src/kube/firstboot.ts';
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

test('the boot-test unit is inert without pikube.test and its finish script passes shellcheck', async (t) => {
  const script = { hostPath: FIRSTBOOT_SCRIPT, size: 1, sha256: '0'.repeat(64) } as Parameters<typeof planFirstBoot>[0]['script'];
  const entries = planFirstBoot({ profile: 'k3s', role: 'server', node: 'pi', architecture: 'arm64', bootMount: '/boot/firmware', imageDir: '/var/lib/rancher/k3s/agent/images', builds: [], script, after: 'k3s.service' });
  const textOf = (path: string) => {
    const entry = entries.find((e) => e.path === path);
    return entry?.type === 'file' && entry.content.kind === 'text' ? entry.content.text : '';
  };
  t.regex(textOf(BOOT_TEST_UNIT_PATH), /^ConditionKernelCommandLine=pikube\.test$/m);
  t.regex(textOf(BOOT_TEST_UNIT_PATH), /^After=pikube-firstboot\.service$/m);
  const check = await execa('shellcheck', ['--severity=style', '-'], { input: textOf('/usr/local/lib/pikube/boot-test-finish.sh'), reject: false });
  t.is(check.exitCode, 0, String(check.stdout));
  t.true(entries.some((e) => e.type === 'symlink' && e.path === '/etc/systemd/system/multi-user.target.wants/pikube-boot-test.service'));
});
