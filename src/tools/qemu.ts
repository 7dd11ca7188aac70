import { runTool } from './run.ts';

// One headless boot: which emulator, its machine arguments, the deadline and where the console goes.
export interface QemuBoot {
  // qemu-system-aarch64 or qemu-system-arm.
  system: 'qemu-system-aarch64' | 'qemu-system-arm';
  args: string[];
  timeoutMs: number;
  // Called with each console line as it arrives.
  onLine: (line: string) => void;
  // The whole console output is also written here.
  consoleLog: string;
  signal?: AbortSignal;
}

// How QEMU ended: its exit code, or stopped at the deadline.
export interface QemuExit {
  exitCode: number;
  timedOut: boolean;
}

// Boots a machine headless (serial console on stdout, no monitor) and waits until it powers off or the deadline.
export async function bootQemu(boot: QemuBoot): Promise<QemuExit> {
  const onLine = boot.onLine;
  const result = await runTool(boot.system, ['-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot', ...boot.args], {
    stdin: 'ignore',
    stdout: [function* (line: unknown) {
      onLine(String(line));
      yield line;
    }, { file: boot.consoleLog }],
    timeoutMs: boot.timeoutMs,
    returnOnTimeout: true,
    ...(boot.signal ? { cancelSignal: boot.signal } : {}),
  });
  return { exitCode: result.exitCode, timedOut: result.timedOut === true };
}
