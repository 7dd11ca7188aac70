import { UserError } from '../errors.ts';
import { isVerbose, log } from '../log.ts';
import type { Milestone } from './console-timeline.ts';
import { STATUS_FILE } from '../kube/firstboot.ts';
import type { LoginReport } from './login-report.ts';
import { runBootTest, type BootLogin, type BootTestOptions, type BootTestResult } from './run-boot-test.ts';
import { explainNotProvable } from './status-report.ts';

// One timeline line per milestone, on stderr: kernel up, systemd up, each first-boot step, power-off.
export function printMilestone(milestone: Milestone, seconds: number): void {
  const at = `${seconds.toFixed(1).padStart(6)}s`;
  if (milestone.kind === 'kernel') log.info(`${at}  kernel up (${milestone.text})`);
  else if (milestone.kind === 'systemd') log.info(`${at}  systemd up (${milestone.text})`);
  else if (milestone.kind === 'step') log.info(`${at}  first boot: ${milestone.step} ${milestone.result} ${milestone.detail}`);
  else if (milestone.kind === 'panic') log.info(`${at}  ${milestone.text}`);
  else log.info(`${at}  power-off`);
}

// Runs the boot test with the timeline on stderr, prints the status file on stdout and the verdict; throws a
// UserError naming every problem (and the kept console log) when the image did not pass.
export async function bootAndReport(options: Omit<BootTestOptions, 'onMilestone'>): Promise<BootTestResult> {
  const result = await runBootTest({ ...options, onMilestone: printMilestone });
  log.step(result.ranFirstBoot ? `first boot ran (${result.seconds.toFixed(0)} s on ${result.machine})`
    : result.firstBootRuns > 0 ? `first boot did not run on this boot (it ran on an earlier boot of this card: ${result.firstBootRuns} run recorded)`
      : 'first boot did not run, or failed before recording its run');
  for (const step of result.steps) {
    const note = step.result === 'FAIL' ? explainNotProvable(step.step) : undefined;
    log.info(`  ${step.step.padEnd(12)} ${step.result.padEnd(5)} ${step.detail}${note ? `  [not counted under emulation: ${note}]` : ''}`);
  }
  for (const line of describeLogin(result.login)) log.info(line);
  if (result.statusText !== undefined) process.stdout.write(result.statusText);
  const journal = (result.journal ?? '').trimEnd().split('\n');
  if (!result.passed || isVerbose()) {
    log.info(`journal excerpt (first boot, containerd, k3s; last ${Math.min(30, journal.length)} lines):`);
    for (const line of journal.slice(-30)) log.info(`  ${line}`);
  }
  if (!result.passed) {
    throw new UserError(`boot test failed on ${result.machine}:\n  ${result.problems.join('\n  ')}`,
      `the console log is kept at ${result.consoleLog ?? '(none)'}; the status file is ${STATUS_FILE.slice(1)} on the boot partition`);
  }
  log.info(`boot test passed on ${result.machine} in ${result.seconds.toFixed(0)} s`);
  return result;
}

// The login's lines of the report: what a user checks first after `ssh USER@HOST`, one fact a line.
export function describeLogin(login: BootLogin): string[] {
  if (!login.done) return login.reason ? [`login over SSH skipped: ${login.reason}`] : [];
  const head = `login over SSH as ${login.user} on 127.0.0.1:${login.port}`;
  const report = login.outcome.report;
  if (!report) {
    return [login.skipped ? `${head}: skipped, ${login.skipped}` : `${head} failed after ${login.outcome.attempts} tries: ${login.outcome.error ?? 'no answer'}`];
  }
  return [`${head} (${login.at.toFixed(0)} s into the boot, ${login.outcome.attempts} ${login.outcome.attempts === 1 ? 'try' : 'tries'})`, ...describeReport(report)];
}

function describeReport(report: LoginReport): string[] {
  const row = (name: string, value: string): string => `  ${name.padEnd(12)} ${value}`;
  const addresses = report.addresses.filter((a) => a.interface !== 'lo').map((a) => `${a.interface} ${a.address}`).join(', ') || 'none';
  const kube = report.kube.unit ? `${report.kube.unit} ${report.kube.state}` : 'no Kubernetes unit named';
  const status = report.statusLine.replace(/^\S+Z\s+/, '').replace(/\s+/g, ' ');
  return [
    row('hostname', report.hostname),
    row('user', `${report.user} (uid ${report.uid}), groups ${report.groups.join(' ')}`),
    row('ipv4', addresses),
    row('sshd', `${report.sshd.unit} ${report.sshd.state}`),
    row('kubernetes', `${kube}  [not counted under emulation: ${explainNotProvable('node') ?? ''}]`),
    row('boot', report.bootMount ? `${report.bootMount.source} on ${report.bootMount.target} (${report.bootMount.fstype})` : `nothing mounted at ${report.bootMountPoint}`),
    row('first boot', `${report.firstBoot.state} (${report.firstBoot.result})${status ? `, status: ${status}` : ''}`),
  ];
}
