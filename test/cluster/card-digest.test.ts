import test from 'ava';
import { digestCardPlan } from '../../src/pipeline/card-digest.ts';
import type { Plan, PlanEntry } from '../../src/plan/types.ts';

const entries: PlanEntry[] = [
  { type: 'file', partition: 'root', path: '/etc/motd', mode: 0o644, uid: 0, gid: 0, content: { kind: 'text', text: 'hello\n' }, origin: 'files[0]' },
  { type: 'file', partition: 'root', path: '/usr/local/bin/k3s', mode: 0o755, uid: 0, gid: 0, content: { kind: 'host', path: '/tmp/work-1/k3s', size: 10, sha256: 'a'.repeat(64) }, origin: 'k3s' },
  { type: 'file', partition: 'root', path: '/etc/pikube/build.json', mode: 0o644, uid: 0, gid: 0, content: { kind: 'text', text: '{"builtAt":"2026-01-01"}' }, origin: 'record', stamped: true },
];
const plan = (list: PlanEntry[]): Plan => ({
  pikubeVersion: '0.1.0', recipeSha256: 'r1', base: { path: '/somewhere/base.img', label: 'dos', diskId: '0x1', architecture: 'armhf' },
  growth: null, entries: list, inputs: [{ role: 'base', name: 'base.img', sha256: 'b'.repeat(64) }], payloadBytes: { boot: 0, root: 0 },
});

test('a card digest ignores the build time, the work folder, the recipe hash, entry order and origins, and sees every other change', (t) => {
  const digest = digestCardPlan(plan(entries));
  const [motd, k3s, record] = entries as [PlanEntry & { type: 'file' }, PlanEntry & { type: 'file' }, PlanEntry & { type: 'file' }];
  const again = plan([{ ...record, content: { kind: 'text', text: '{"builtAt":"2026-06-01"}' } }, { ...k3s, content: { ...k3s.content, path: '/tmp/work-2/k3s' } as typeof k3s.content }, { ...motd, origin: 'other' }]);
  t.is(digestCardPlan({ ...again, recipeSha256: 'r2', base: { ...again.base, path: '/elsewhere/base.img' } }), digest);
  t.not(digestCardPlan(plan([{ ...motd, content: { kind: 'text', text: 'bye\n' } }, k3s, record])), digest, 'content');
  t.not(digestCardPlan(plan([{ ...motd, mode: 0o600 }, k3s, record])), digest, 'mode');
  t.not(digestCardPlan(plan([motd, { ...k3s, content: { kind: 'host', path: '/tmp/work-1/k3s', size: 10, sha256: 'c'.repeat(64) } }, record])), digest, 'a host file\'s digest');
  t.not(digestCardPlan(plan([motd, record])), digest, 'an entry removed');
  t.not(digestCardPlan({ ...plan(entries), pikubeVersion: '0.2.0' }), digest, 'the pikube version');
  t.not(digestCardPlan({ ...plan(entries), inputs: [{ role: 'base', name: 'base.img', sha256: 'd'.repeat(64) }] }), digest, 'an input');
});
