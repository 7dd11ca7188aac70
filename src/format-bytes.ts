// Sizes for people, in one style everywhere: binary units (1.5 MiB) for files and images, decimal (31.9 GB) for
// drives, as card vendors label them.
export function formatBytes(bytes: number, units: 'binary' | 'decimal' = 'binary'): string {
  const step = units === 'binary' ? 1024 : 1000;
  const names = units === 'binary' ? ['B', 'KiB', 'MiB', 'GiB', 'TiB'] : ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= step && unit < names.length - 1) {
    value /= step;
    unit += 1;
  }
  return `${unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${names[unit]}`;
}

// Partition and payload sizes, always in MiB so they compare at a glance.
export function formatMiB(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
