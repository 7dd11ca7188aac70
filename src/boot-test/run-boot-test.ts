import { mkdtemp, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.ts';
import { readImageFacts, readLayout } from '../image/read-facts.ts';
import { FIRSTBOOT_RECORDS, FIRSTBOOT_UNIT_PATH, STATUS_FILE } from '../kube/firstboot.ts';
import { log } from '../log.ts';
import { BUILD_RECORD_PATH, type BuildIdentity } from '../plan/build-record.ts';
import { ensureTools } from '../tools/check-tools.ts';
import { copySparse } from '../tools/cp.ts';
import { readExtText, statExtPaths, type ExtVolume } from '../tools/debugfs.ts';
import { copyFromFat, copyToFat, readFatFile, type FatVolume } from '../tools/mtools.ts';
import { bootQemu } from '../tools/qemu.ts';
import { parseBootConfig } from './boot-config.ts';
import { readMilestone, type Milestone } from './console-timeline.ts';
import { logInWhileBooted, pickFreePort, type LoginOutcome } from './log-in.ts';
import { judgeLogin } from './login-report.ts';
import { makeNetworkArgs, pickMachine, type Machine, type MachineName } from './machines.ts';
import { planLogin, type LoginMode, type LoginPlan } from './plan-login.ts';
import { judgeSteps, parseStatus, type StatusStep } from './status-report.ts';
import { makeTestCmdline } from './test-cmdline.ts';

// What to boot and how: the flags of `pikube boot-test`.
export interface BootTestOptions {
  image: string;
  machine?: MachineName;
  timeoutSeconds: number;
  // Test-mode wait for the node to register, passed to first boot as pikube.test=SECONDS.
  nodeWaitSeconds: number;
  kernel?: string;
  dtb?: string;
  initrd?: string;
  // Keep the booted copy here (to boot it again, or look inside); otherwise it is deleted.
  keepCopy?: string;
  // Where the console log is kept when the test fails (default IMAGE.boot-test.log).
  consoleLog?: string;
  // Log in over SSH while the machine runs (default auto: when the card was built with a user and an SSH key).
  login?: LoginMode;
  // The private key to log in with; without it ssh uses the running user's own keys and agent.
  sshKey?: string;
  signal?: AbortSignal;
  // Each timeline event as it happens, with seconds since QEMU started.
  onMilestone?: (milestone: Milestone, seconds: number) => void;
}

// What the boot showed, read back from the copy after QEMU exited.
export interface BootTestResult {
  passed: boolean;
  machine: MachineName;
  seconds: number;
  timedOut: boolean;
  // First boot ran during this boot (false on a card whose first boot is already done).
  ranFirstBoot: boolean;
  // How often the first-boot script has run on this card, and how many boot tests booted it, over its life.
  firstBootRuns: number;
  testBoots: number;
  steps: StatusStep[];
  statusText?: string;
  journal?: string;
  problems: string[];
  // The kept console log (failures only).
  consoleLog?: string;
  login: BootLogin;
}

// The SSH login's part of the result: skipped (and why), or how it went and what it found.
export type BootLogin = { done: false; reason?: string } | {
  done: true;
  user: string;
  port: number;
  outcome: LoginOutcome;
  // Seconds after QEMU started that the login had its answer.
  at: number;
  problems: string[];
  // Auto mode only: the card refused every key this host has, which is no fault of the card.
  skipped?: string;
};

// How long the card's boot-test unit waits for the login once first boot is over, before powering off anyway.
const LOGIN_WAIT_SECONDS = 120;

interface Volumes {
  fat: FatVolume;
  ext: ExtVolume;
}

// Boots a throw-away copy of IMAGE in QEMU with the first-boot test flag, streams the timeline, and judges what
// first boot recorded; the image itself is only read.
export async function runBootTest(options: BootTestOptions): Promise<BootTestResult> {
  const facts = await readImageFacts(options.image);
  const machine = pickMachine(options.machine, facts.architecture);
  if (facts.architecture !== machine.architecture) {
    throw new UserError(`${options.image} holds ${facts.architecture} binaries but ${machine.name} emulates ${machine.architecture}`,
      `use --machine ${facts.architecture === 'armhf' ? 'raspi2b' : 'raspi3b'} (or virt)`);
  }
  await ensureTools('boot-test', { include: [machine.system] });
  const installed = await statExtPaths({ image: options.image, offset: facts.root.start * facts.table.sectorSize }, [FIRSTBOOT_UNIT_PATH]);
  if (!installed.get(FIRSTBOOT_UNIT_PATH)) {
    throw new UserError(`${options.image} has no pikube first-boot unit`, 'boot-test checks images built by `pikube build` with `kubernetes:` in the recipe');
  }
  const loginPlan = planLogin(options.login ?? 'auto', await readIdentity({ image: options.image, offset: facts.root.start * facts.table.sectorSize }), machine, options.image);
  if (loginPlan.login) await ensureTools('boot-test', { include: ['ssh'] });
  const work = await mkdtemp(join(dirname(options.image), `.${basename(options.image)}.boot-test-`));
  const copy = join(work, 'card.img');
  const consoleLog = join(work, 'console.log');
  try {
    log.step(`copying ${basename(options.image)} (sparse) for ${machine.name}`);
    await copySparse(options.image, copy, options.signal);
    if (machine.powerOfTwo) await padToPowerOfTwo(copy);
    const volumes = await openVolumes(copy);
    const files = await prepareBoot(copy, volumes, machine, options, work, loginPlan.login ? LOGIN_WAIT_SECONDS : undefined);
    const port = loginPlan.login ? await pickFreePort() : undefined;
    const before = { runs: await countLines(volumes.ext, FIRSTBOOT_RECORDS.runs), boots: await countLines(volumes.ext, FIRSTBOOT_RECORDS.boots) };
    log.step(`booting on ${machine.name} (${machine.system}, timeout ${options.timeoutSeconds} s)`);
    const started = performance.now();
    const seen = new Set<string>();
    let exited = false;
    const booted = bootQemu({
      system: machine.system,
      args: [...machine.args, ...makeNetworkArgs(machine, port === undefined ? undefined : { port, ...(loginPlan.login && loginPlan.guestNetwork ? { network: loginPlan.guestNetwork } : {}) }), '-kernel', files.kernel, ...(files.dtb ? ['-dtb', files.dtb] : []), ...(files.initrd ? ['-initrd', files.initrd] : []),
        '-append', files.cmdline, '-drive', `file=${copy},if=${machine.drive},format=raw`],
      timeoutMs: options.timeoutSeconds * 1000,
      consoleLog,
      onLine: (line) => {
        const milestone = readMilestone(line);
        if (!milestone || (milestone.kind !== 'step' && seen.has(milestone.kind))) return;
        seen.add(milestone.kind);
        options.onMilestone?.(milestone, (performance.now() - started) / 1000);
      },
      ...(options.signal ? { signal: options.signal } : {}),
    }).finally(() => {
      exited = true;
    });
    const loggedIn = loginPlan.login && port !== undefined
      ? logInWhileBooted({
        user: loginPlan.expected.user, port, knownHosts: join(work, 'known_hosts'), ...(options.sshKey ? { identity: options.sshKey } : {}),
        deadline: started + options.timeoutSeconds * 1000, waitSeconds: options.timeoutSeconds, stopped: () => exited,
        ...(options.signal ? { signal: options.signal } : {}),
      }).then((outcome) => ({ outcome, at: (performance.now() - started) / 1000 }))
      : undefined;
    const [exit, login] = await Promise.all([booted, loggedIn]);
    const seconds = (performance.now() - started) / 1000;
    const result = await readOutcome(volumes, machine, before, exit.timedOut, seconds, options.timeoutSeconds);
    result.login = judgeBootLogin(loginPlan, login, port, options);
    if (result.login.done && result.login.problems.length > 0) {
      result.problems.push(...result.login.problems);
      result.passed = false;
    }
    if (!result.passed) {
      const kept = options.consoleLog ?? `${options.image}.boot-test.log`;
      await moveOut(consoleLog, kept).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        await writeFile(kept, '');
      });
      result.consoleLog = kept;
    }
    if (options.keepCopy) await moveOut(copy, options.keepCopy);
    return result;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// The identity the card was built with, from its build record (none on images pikube did not build or built
// before the record had one).
async function readIdentity(volume: ExtVolume): Promise<BuildIdentity | undefined> {
  const text = await readExtText(volume, BUILD_RECORD_PATH);
  if (text === undefined) return undefined;
  try {
    return (JSON.parse(text) as { identity?: BuildIdentity }).identity;
  } catch {
    return undefined;
  }
}

// Judges the login: what it found against the build record, or why it failed. In auto mode (no --ssh, no --ssh-key)
// a card that refuses this host's keys is reported, not failed: the card is fine, the key is elsewhere.
function judgeBootLogin(plan: LoginPlan, login: { outcome: LoginOutcome; at: number } | undefined, port: number | undefined, options: BootTestOptions): BootLogin {
  if (!plan.login || !login || port === undefined) return { done: false, ...(!plan.login && plan.reason ? { reason: plan.reason } : {}) };
  const base = { done: true as const, user: plan.expected.user, port, outcome: login.outcome, at: login.at };
  if (login.outcome.report) return { ...base, problems: judgeLogin(login.outcome.report, plan.expected) };
  const auto = (options.login ?? 'auto') === 'auto' && !options.sshKey;
  if (auto && login.outcome.refused) {
    return { ...base, problems: [], skipped: `the card refused this host's SSH keys for ${plan.expected.user} (pass --ssh-key with the recipe key's private half)` };
  }
  return { ...base, problems: [`could not log in over SSH as ${plan.expected.user} (${login.outcome.attempts} tries): ${login.outcome.error ?? 'no answer'}`] };
}

// Moves a result out of the work folder, which sits beside the image: --log and --keep-copy may name another
// filesystem, where rename cannot go (EXDEV), so the file is copied there instead (keeping an image's holes).
async function moveOut(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copySparse(from, to);
  }
}

// QEMU's SD model takes only power-of-two sizes; growing the copy with a hole costs no space.
async function padToPowerOfTwo(path: string): Promise<void> {
  const { size } = await stat(path);
  const target = 2 ** Math.ceil(Math.log2(size));
  if (target !== size) await truncate(path, target);
}

async function openVolumes(image: string): Promise<Volumes> {
  const layout = await readLayout(image);
  const sector = layout.table.sectorSize;
  return { fat: { image, offset: layout.boot.start * sector }, ext: { image, offset: layout.root.start * sector } };
}

interface BootFiles {
  kernel: string;
  dtb?: string;
  initrd?: string;
  cmdline: string;
}

// The kernel, device tree and initrd the firmware would load (or the flags' files), and the test command line,
// which is also written into the copy's cmdline.txt so the copy records how it was booted.
async function prepareBoot(copy: string, volumes: Volumes, machine: Machine, options: BootTestOptions, work: string, loginWaitSeconds: number | undefined): Promise<BootFiles> {
  const config = parseBootConfig((await readFatFile(volumes.fat, '/config.txt')) ?? '', machine.sections);
  const fromCard = async (names: readonly string[], what: string, flag: string): Promise<string> => {
    for (const name of names) {
      const target = join(work, name.replace(/[^A-Za-z0-9._-]/g, '_'));
      if (await copyFromFat(volumes.fat, `/${name}`, target)) return target;
    }
    throw new UserError(`the boot partition has no ${what} for ${machine.name} (looked for ${names.join(', ')})`, `pass ${flag} FILE, or pick another --machine`);
  };
  const kernel = options.kernel ?? await fromCard([...(config.kernel ? [config.kernel] : []), ...machine.kernels], 'kernel', '--kernel');
  const dtb = options.dtb ?? (machine.deviceTrees.length > 0
    ? await fromCard([...(config.deviceTree ? [config.deviceTree] : []), ...machine.deviceTrees], 'device tree', '--dtb') : undefined);
  const initrdName = config.initramfs ?? (config.autoInitramfs ? machine.autoInitramfs : undefined);
  const initrd = options.initrd ?? (initrdName ? await fromCard([initrdName], `initramfs ${initrdName} (named by config.txt)`, '--initrd') : undefined);
  const cmdlineText = await readFatFile(volumes.fat, '/cmdline.txt');
  if (cmdlineText === undefined) throw new UserError('the boot partition has no cmdline.txt', 'boot-test boots Raspberry Pi style images, whose kernel command line is cmdline.txt');
  const cmdline = makeTestCmdline(cmdlineText, machine, options.nodeWaitSeconds, loginWaitSeconds);
  const file = join(work, 'cmdline.txt');
  await writeFile(file, `${cmdline}\n`);
  await copyToFat(volumes.fat, file, '/cmdline.txt');
  return { kernel, ...(dtb ? { dtb } : {}), ...(initrd ? { initrd } : {}), cmdline };
}

async function countLines(volume: ExtVolume, path: string): Promise<number> {
  const text = await readExtText(volume, path);
  return text === undefined ? 0 : text.split('\n').filter((line) => line.trim()).length;
}

// Reads what first boot left in the copy and judges it.
async function readOutcome(volumes: Volumes, machine: Machine, before: { runs: number; boots: number }, timedOut: boolean, seconds: number, timeoutSeconds: number): Promise<BootTestResult> {
  const [statusText, journal, runs, boots] = await Promise.all([
    readFatFile(volumes.fat, STATUS_FILE), readExtText(volumes.ext, FIRSTBOOT_RECORDS.journal),
    countLines(volumes.ext, FIRSTBOOT_RECORDS.runs), countLines(volumes.ext, FIRSTBOOT_RECORDS.boots),
  ]);
  const steps = parseStatus(statusText ?? '');
  const ranFirstBoot = runs > before.runs;
  const problems: string[] = [];
  if (timedOut) problems.push(`the machine did not power off within ${timeoutSeconds} s`);
  else if (boots <= before.boots) problems.push('the machine stopped before pikube-boot-test.service ran: the kernel, initrd or systemd did not get that far');
  if (runs - before.runs > 1) problems.push(`first boot ran ${runs - before.runs} times in one boot`);
  if (statusText === undefined) problems.push(`first boot left no ${STATUS_FILE.slice(1)} on the boot partition`);
  else if (!ranFirstBoot && before.runs === 0) problems.push('the first-boot script never started');
  if (statusText !== undefined) problems.push(...judgeSteps(steps));
  return {
    passed: problems.length === 0, machine: machine.name, seconds, timedOut, ranFirstBoot, firstBootRuns: runs, testBoots: boots, steps,
    ...(statusText === undefined ? {} : { statusText }), ...(journal === undefined ? {} : { journal }), problems, login: { done: false },
  };
}
