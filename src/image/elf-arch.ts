// Debian architecture names from an ELF header: what the userland runs on decides which binaries fit.
// ARM 32-bit splits into armhf and armel by the hard-float flag in e_flags.
export function readElfArchitecture(header: Buffer): string | undefined {
  if (header.length < 40 || header.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = header[4] === 2;
  const little = header[5] === 1;
  const machine = little ? header.readUInt16LE(18) : header.readUInt16BE(18);
  switch (machine) {
    case 0xb7: return 'arm64';
    case 0x3e: return 'amd64';
    case 0x03: return 'i386';
    case 0xf3: return is64 ? 'riscv64' : 'riscv32';
    case 0x28: {
      const flagsOffset = is64 ? 48 : 36;
      const flags = little ? header.readUInt32LE(flagsOffset) : header.readUInt32BE(flagsOffset);
      return flags & 0x400 ? 'armhf' : 'armel';
    }
    default: return `elf-machine-${machine}`;
  }
}
