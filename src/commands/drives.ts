import type { Command } from 'commander';
import { formatDriveBytes } from '../flash/flash-target.ts';
import { listDrives } from '../flash/list-drives.ts';
import { formatTable } from './doctor.ts';
import { COMMAND_SUMMARIES } from './command-table.ts';

// `pikube drives`: what pikube can write to, with the facts the safety rules use.
export function registerDrivesCommand(program: Command): void {
  program
    .command('drives')
    .description(COMMAND_SUMMARIES['drives'])
    .option('--json', 'print the drives as JSON')
    .action(async (options: { json?: boolean }) => {
      const drives = await listDrives();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(drives.map((d) => ({
          device: d.device, size: d.size, model: d.model, bus: d.bus, removable: d.removable, system: d.system, mountpoints: d.mountpoints,
        })), null, 2)}\n`);
        return;
      }
      const rows = [['DEVICE', 'SIZE', 'MODEL', 'BUS', 'REMOVABLE', 'SYSTEM', 'MOUNTPOINTS'], ...drives.map((d) => [
        d.device, formatDriveBytes(d.size), d.model || '-', d.bus, d.removable ? 'yes' : 'no', d.system ? 'yes' : 'no', d.mountpoints.join(',') || '-',
      ])];
      process.stdout.write(formatTable(rows));
    });
}
