// Milestones read from the serial console as the machine boots, for the short timeline boot-test streams.
export type Milestone =
  | { kind: 'kernel'; text: string }
  | { kind: 'systemd'; text: string }
  | { kind: 'step'; step: string; result: string; detail: string }
  | { kind: 'poweroff'; text: string }
  | { kind: 'panic'; text: string };

const STEP = /(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (\S+)\s+(ok|FAIL|warn|skip)\s+(.*)$/;

// Classifies one console line; undefined for the many lines that are not milestones.
export function readMilestone(raw: string): Milestone | undefined {
  const line = raw.replace(/\u001B\[[0-9;]*m|\r/g, '').trimEnd();
  const step = STEP.exec(line);
  if (step) return { kind: 'step', step: step[2] ?? '', result: step[3] ?? '', detail: step[4] ?? '' };
  if (/Linux version \d/.test(line)) return { kind: 'kernel', text: /Linux version (\S+)/.exec(line)?.[1] ?? 'kernel' };
  if (/systemd\[1\]: systemd \d+ running|Welcome to .*!/.test(line)) return { kind: 'systemd', text: /systemd \d[^ ]*/.exec(line)?.[0] ?? line.replace(/^.*?Welcome to /, '') };
  if (/Kernel panic/.test(line)) return { kind: 'panic', text: line.replace(/^\[[^\]]*\]\s*/, '') };
  if (/pikube-boot-test: powering off|reboot: Power down|reboot: System halted/.test(line)) return { kind: 'poweroff', text: line.replace(/^\[[^\]]*\]\s*/, '') };
  return undefined;
}
