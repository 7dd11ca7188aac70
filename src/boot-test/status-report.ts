// What the first-boot status file says, step by step, and whether that is a pass under emulation.
export interface StatusStep {
  step: string;
  result: 'ok' | 'FAIL' | 'warn' | 'skip';
  detail: string;
}

// Steps an emulator cannot prove: the node needs a real k3s on a CPU fast enough to start it within the short
// test-mode wait. They are shown with their real result but do not decide the verdict.
export const NOT_PROVABLE_IN_EMULATION: Readonly<Record<string, string>> = {
  node: 'a Ready node needs the real k3s and minutes of CPU; under emulation the wait is short',
  finish: 'the summary line counts the node too',
};

// The reason a step does not count under emulation, if it is one of those.
export function explainNotProvable(step: string): string | undefined {
  return NOT_PROVABLE_IN_EMULATION[step];
}

// Parses the status file's step lines; indented lines (command output recorded under a step) are skipped.
export function parseStatus(text: string): StatusStep[] {
  const steps: StatusStep[] = [];
  for (const line of text.split('\n')) {
    const match = /^\S+Z (\S+)\s+(ok|FAIL|warn|skip)\s+(.*)$/.exec(line.trimEnd());
    if (match) steps.push({ step: match[1] ?? '', result: match[2] as StatusStep['result'], detail: match[3] ?? '' });
  }
  return steps;
}

// The problems that fail the test: a missing start or finish line, and every failed step an emulator can prove.
export function judgeSteps(steps: readonly StatusStep[]): string[] {
  const problems: string[] = [];
  if (!steps.some((s) => s.step === 'start')) problems.push('the status file has no start line: the first-boot script did not get going');
  if (!steps.some((s) => s.step === 'finish')) problems.push('the status file has no finish line: the first-boot script stopped part-way');
  for (const s of steps) {
    if (s.result === 'FAIL' && !(s.step in NOT_PROVABLE_IN_EMULATION)) problems.push(`${s.step} failed: ${s.detail}`);
  }
  return problems;
}
