import process from 'node:process';
import { Command, CommanderError } from 'commander';
import { EXIT, getExitCode, InterruptedError, ToolError, UserError } from './errors.ts';
import { installInterruptHandler, runSignal } from './interrupt.ts';
import { log, setLogLevel } from './log.ts';
import { PIKUBE_VERSION } from './version.ts';
import { COMMAND_LOADERS, COMMAND_SUMMARIES, type CommandName } from './commands/command-table.ts';

// The command this invocation runs: the first word that is not a flag (global options are flags), or the word
// after `help`; undefined for help, a bare --version and mistakes.
function commandFor(argv: readonly string[]): CommandName | undefined {
  const words = argv.slice(2).filter((word) => !word.startsWith('-'));
  const name = words[0] === 'help' ? words[1] : words[0];
  return name !== undefined && name in COMMAND_LOADERS ? (name as CommandName) : undefined;
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
  const name = commandFor(argv);
  if (name) (await COMMAND_LOADERS[name]())(program);
  // Without a command, help (and commander's did-you-mean for a misspelt one) needs only each command's summary.
  else for (const [other, summary] of Object.entries(COMMAND_SUMMARIES)) program.command(other).description(summary);
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

// A reader that went away (`pikube plan | head -2`) is no error: stop printing to it, let every release path run
// (temporary folders, loop devices), and exit quietly, as other Unix tools do.
function ignoreClosedOutput(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    throw error;
  });
}

// The only place that calls process.exit.
async function main(argv: string[]): Promise<never> {
  ignoreClosedOutput(process.stdout);
  ignoreClosedOutput(process.stderr);
  installInterruptHandler((code) => {
    log.error('interrupted: forced exit, after detaching loop devices, unmounting and removing temporary folders');
    process.exit(code);
  }, (message) => log.warn(message));
  const program = await makeProgram(argv);
  try {
    await program.parseAsync(argv);
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.user);
    }
    // Whatever a cancelled operation threw (an AbortError from a stream, a killed tool), Ctrl-C is the cause.
    const cause = runSignal.aborted ? (runSignal.reason instanceof InterruptedError ? runSignal.reason : new InterruptedError()) : error;
    reportError(cause);
    process.exit(getExitCode(cause));
  }
}

await main(process.argv);
