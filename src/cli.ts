import process from 'node:process';
import { Command, CommanderError } from 'commander';
import { EXIT, getExitCode, InterruptedError, ToolError, UserError } from './errors.ts';
import { installInterruptHandler, runSignal } from './interrupt.ts';
import { log, setLogLevel } from './log.ts';
import { PIKUBE_VERSION } from './version.ts';
type Register = (program: Command) => void;

// The command table; each command lives in src/commands/ and is loaded only when it runs, so `pikube flash`
// does not pay for the registry client or the PKI library at start-up.
const COMMANDS: Record<string, () => Promise<Register>> = {
  build: async () => (await import('./commands/build.ts')).registerBuildCommand,
  plan: async () => (await import('./commands/plan.ts')).registerPlanCommand,
  inspect: async () => (await import('./commands/inspect.ts')).registerInspectCommand,
  pull: async () => (await import('./commands/pull.ts')).registerPullCommand,
  drives: async () => (await import('./commands/drives.ts')).registerDrivesCommand,
  flash: async () => (await import('./commands/flash.ts')).registerFlashCommand,
  bmap: async () => (await import('./commands/bmap.ts')).registerBmapCommand,
  cache: async () => (await import('./commands/cache.ts')).registerCacheCommand,
  doctor: async () => (await import('./commands/doctor.ts')).registerDoctorCommand,
  'boot-test': async () => (await import('./commands/boot-test.ts')).registerBootTestCommand,
};

// The commands this invocation needs: the one named (global options are flags, so the first word is it),
// none for a bare --version, every one for help and for mistakes (so commander can suggest a name).
function commandsFor(argv: readonly string[]): string[] {
  const words = argv.slice(2);
  const name = words.find((word) => !word.startsWith('-'));
  if (name && name in COMMANDS) return [name];
  if (!name && words.some((word) => word === '-V' || word === '--version')) return [];
  return Object.keys(COMMANDS);
}

async function makeProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('pikube')
    .description('turn a stock Raspberry Pi OS image into a card that boots straight into running Kubernetes')
    .version(PIKUBE_VERSION, '-V, --version')
    .option('-v, --verbose', 'print every external command pikube runs')
    .option('-q, --quiet', 'print only warnings and errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.hook('preAction', (command) => {
    const options = command.optsWithGlobals() as { verbose?: boolean; quiet?: boolean };
    setLogLevel(options.verbose ? 'verbose' : options.quiet ? 'quiet' : 'normal');
  });
  for (const name of commandsFor(argv)) (await (COMMANDS[name] as () => Promise<Register>)())(program);
  return program;
}

// Prints an error the way its kind deserves: a hint for the user, the tool's words, a report request for a bug.
function reportError(error: unknown): void {
  if (error instanceof UserError) {
    log.error(error.message);
    if (error.hint) log.info(`  hint: ${error.hint}`);
  } else if (error instanceof ToolError) {
    log.error(error.message);
    if (error.hint) log.info(`  hint: ${error.hint}`);
  } else if (error instanceof Error && error.name === 'InterruptedError') {
    log.error(error.message === 'interrupted' ? 'interrupted: temporary files, loop devices and mounts were released' : error.message);
  } else if (error instanceof Error && getExitCode(error) === EXIT.tool) {
    log.error(`${error.message}${'code' in error && error.code === 'ENOSPC' ? '\n  hint: the disk is full: free space or choose another --output' : ''}`);
  } else {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log.error(`this is a bug in pikube ${PIKUBE_VERSION} (node ${process.version}), please report it with this text:\n${detail.replaceAll(process.cwd(), '<cwd>')}`);
  }
}

// The only place that calls process.exit.
async function main(argv: string[]): Promise<never> {
  installInterruptHandler(() => process.exit(EXIT.interrupted));
  const program = await makeProgram(argv);
  try {
    await program.parseAsync(argv);
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.user);
    }
    // Whatever a cancelled operation threw (an AbortError from a stream, a killed tool), Ctrl-C is the cause.
    const cause = runSignal.aborted && !(error instanceof InterruptedError) ? new InterruptedError() : error;
    reportError(cause);
    process.exit(getExitCode(cause));
  }
}

await main(process.argv);
