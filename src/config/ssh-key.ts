// The public key types sshd accepts in authorized_keys (OpenSSH 9: sshd(8) "AUTHORIZED_KEYS FILE FORMAT"), each
// with the fields its base64 blob holds after the type string (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4, OpenSSH
// PROTOCOL.u2f for the security-key types).
const KEY_FIELDS: Record<string, Array<'mpint' | 'ed25519' | 'curve' | 'point' | 'application'>> = {
  'ssh-ed25519': ['ed25519'],
  'ssh-rsa': ['mpint', 'mpint'],
  'ecdsa-sha2-nistp256': ['curve', 'point'],
  'ecdsa-sha2-nistp384': ['curve', 'point'],
  'ecdsa-sha2-nistp521': ['curve', 'point'],
  'sk-ssh-ed25519@openssh.com': ['ed25519', 'application'],
  'sk-ecdsa-sha2-nistp256@openssh.com': ['curve', 'point', 'application'],
};

// The bytes of an uncompressed EC point (0x04, x, y) per curve.
const POINT_SIZE: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

// OpenSSH refuses RSA keys shorter than this (RequiredRSASize, default 1024 since OpenSSH 9.1).
const MIN_RSA_BITS = 1024;

// Checks one authorized_keys line as sshd would read it: an optional options prefix (`from="…",no-pty`, allowed
// because cloud-init and the authorized_keys file both take lines verbatim), a known key type, a base64 blob that
// decodes, whose type string equals the line's and whose fields are whole, and an optional comment. Returns why
// the line would not log anyone in, or undefined.
export function checkAuthorizedKey(line: string): string | undefined {
  if (/[\u0000-\u0008\u000A-\u001F\u007F]/.test(line)) return 'must be one line without control characters (one key per list item)';
  const fields = splitKeyLine(line.trim());
  if (!fields) return 'has an unclosed quote in its options';
  const { type, body, options } = fields;
  if (!type) return `${options ? 'does not start with a key type' : 'is empty'}: give an OpenSSH public key line ("ssh-ed25519 AAAA… comment")`;
  if (type === 'ssh-dss') return 'is a DSA key, which OpenSSH no longer accepts: make an Ed25519 key with `ssh-keygen -t ed25519`';
  if (type.includes('-cert-v01@openssh.com')) return `is a certificate (${type}), not a public key: give the key itself (the .pub file without -cert)`;
  const layout = KEY_FIELDS[type];
  if (!layout) return `${JSON.stringify(type.slice(0, 40))} is not an OpenSSH key type (${Object.keys(KEY_FIELDS).join(', ')}): give the line of your .pub file`;
  if (!body) return `has no key after ${type}`;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) return `the key after ${type} is not valid base64 (was it cut or wrapped when copied?)`;
  const blob = Buffer.from(body, 'base64');
  return checkBlob(blob, type, layout);
}

function checkBlob(blob: Buffer, type: string, layout: (typeof KEY_FIELDS)[string]): string | undefined {
  let offset = 0;
  const read = (): Buffer | undefined => {
    if (offset + 4 > blob.length) return undefined;
    const size = blob.readUInt32BE(offset);
    if (offset + 4 + size > blob.length) return undefined;
    const value = blob.subarray(offset + 4, offset + 4 + size);
    offset += 4 + size;
    return value;
  };
  const damaged = `the ${type} key is damaged (its bytes end early or do not form a ${type} key): copy the whole line of the .pub file again`;
  const inner = read();
  if (!inner) return damaged;
  if (inner.toString('latin1') !== type) {
    return `the line says ${type} but the key inside is ${JSON.stringify(inner.toString('latin1').slice(0, 40))}: copy the whole line of the .pub file again`;
  }
  const curve = type.match(/nistp\d+/)?.[0];
  const values: Buffer[] = [];
  for (const kind of layout) {
    const value = read();
    if (!value) return damaged;
    values.push(value);
    if (kind === 'ed25519' && value.length !== 32) return damaged;
    if (kind === 'curve' && value.toString('latin1') !== curve) return damaged;
    if (kind === 'point' && (value.length !== POINT_SIZE[curve ?? ''] || value[0] !== 4)) return damaged;
  }
  if (offset !== blob.length) return damaged;
  if (type === 'ssh-rsa') {
    const modulus = values[1] ?? Buffer.alloc(0);
    const bits = bitLength(modulus);
    if (bits < MIN_RSA_BITS) return `the RSA key has ${bits} bits and OpenSSH refuses keys under ${MIN_RSA_BITS}: make an Ed25519 key with \`ssh-keygen -t ed25519\``;
  }
  return undefined;
}

function bitLength(mpint: Buffer): number {
  let i = 0;
  while (i < mpint.length && mpint[i] === 0) i++;
  if (i === mpint.length) return 0;
  return (mpint.length - i - 1) * 8 + (32 - Math.clz32(mpint[i] ?? 0));
}

// Splits `[options] type base64 [comment]` as sshd does: a line whose first word is not a key type starts with
// options, which run to the first space outside double quotes.
function splitKeyLine(line: string): { type: string; body: string; options: boolean } | undefined {
  let rest = line;
  const options = rest !== '' && !/^(ssh|ecdsa|sk)-/.test(rest);
  if (options) {
    let quoted = false;
    let i = 0;
    for (; i < rest.length; i++) {
      const c = rest[i];
      if (c === '\\' && quoted) i++;
      else if (c === '"') quoted = !quoted;
      else if (!quoted && (c === ' ' || c === '\t')) break;
    }
    if (quoted) return undefined;
    rest = rest.slice(i).trimStart();
  }
  const [type = '', body = ''] = rest.split(/\s+/);
  return { type, body, options };
}
