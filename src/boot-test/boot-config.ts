// The few config.txt settings that decide what the Pi firmware loads: kernel=, device_tree=, initramfs and
// auto_initramfs, read from [all] and the machine's own sections (other models' sections are skipped).
export interface BootConfig {
  kernel?: string;
  deviceTree?: string;
  initramfs?: string;
  autoInitramfs: boolean;
}

// Reads those settings the way the firmware does: later lines win, sections for other models are skipped.
export function parseBootConfig(text: string, sections: readonly string[]): BootConfig {
  const config: BootConfig = { autoInitramfs: false };
  let applies = true;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const section = /^\[(.+)\]$/.exec(line)?.[1];
    if (section !== undefined) {
      applies = section === 'all' || sections.includes(section);
      continue;
    }
    if (!applies || !line) continue;
    const initramfs = /^initramfs\s+(\S+)/.exec(line)?.[1];
    if (initramfs) config.initramfs = initramfs;
    const [key, value] = line.split('=', 2).map((part) => part.trim());
    if (value === undefined) continue;
    if (key === 'kernel') config.kernel = value;
    if (key === 'device_tree') config.deviceTree = value;
    if (key === 'auto_initramfs') config.autoInitramfs = value === '1';
  }
  return config;
}
