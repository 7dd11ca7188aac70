import { createPrivateKey, createPublicKey, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { UserError } from '../../errors.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface KeyPair {
  keys: CryptoKeyPair;
  // SEC1 (EC) or PKCS#1 (RSA) PEM: the forms kubeadm and k3s write and read.
  keyPem: string;
}

export interface IssuedCertificate extends KeyPair {
  certificate: x509.X509Certificate;
  certPem: string;
}

export interface CertificateRequest {
  commonName: string;
  organizations?: string[];
  // Back-dated by the caller: a Pi has no real-time clock and boots with a clock behind the build machine's.
  notBefore: Date;
  days: number;
  usage: 'ca' | 'server' | 'client' | 'server+client';
  dnsNames?: string[];
  ipAddresses?: string[];
}

// Generates an ECDSA P-256 key pair, for every CA and leaf certificate.
export async function generateEcKey(): Promise<KeyPair> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  return { keys, keyPem: await exportPrivatePem(keys.privateKey, 'sec1') };
}

// RSA 2048 for the service-account signing key, as kubeadm and k3s make it; the public half is a file of its own.
export async function generateRsaKey(): Promise<KeyPair & { publicPem: string }> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const keyPem = await exportPrivatePem(keys.privateKey, 'pkcs1');
  return { keys, keyPem, publicPem: createPublicKey(keyPem).export({ type: 'spki', format: 'pem' }).toString() };
}

async function exportPrivatePem(privateKey: CryptoKey, type: 'sec1' | 'pkcs1'): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', privateKey));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ type, format: 'pem' }).toString();
}

// A certificate and its key read back from PEM (a kept secrets folder), ready to sign again; refused when the key
// is not the certificate's own.
export async function loadIssuedCertificate(certPem: string, keyPem: string, where: string): Promise<IssuedCertificate> {
  const certificate = new x509.X509Certificate(certPem);
  const privateKey = createPrivateKey(keyPem);
  const derived = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!Buffer.from(certificate.publicKey.rawData).equals(derived)) {
    throw new UserError(`${where}: the key is not the one its certificate was issued for`, 'restore the secrets folder from your backup: pikube never replaces a cluster\'s keys');
  }
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const keys = {
    privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, EC, true, ['sign']),
    publicKey: await certificate.publicKey.export(EC, ['verify']),
  } as CryptoKeyPair;
  return { keys, keyPem, certificate, certPem };
}

// Whether `certificate` carries a valid signature of `issuer` (itself for a root CA).
export async function isSignedBy(certificate: x509.X509Certificate, issuer: x509.X509Certificate): Promise<boolean> {
  if (certificate.issuer !== issuer.subject) return false;
  return certificate.verify({ publicKey: issuer.publicKey, signatureOnly: true }).catch(() => false);
}

// Issues a certificate signed by `issuer`, or self-signed when there is none (a root CA).
export async function issueCertificate(request: CertificateRequest, issuer?: IssuedCertificate): Promise<IssuedCertificate> {
  const pair = await generateEcKey();
  const subject = [
    ...(request.organizations ?? []).map((o) => ({ O: [o] })),
    { CN: [request.commonName] },
  ];
  const extensions: x509.Extension[] = [
    await x509.SubjectKeyIdentifierExtension.create(pair.keys.publicKey),
  ];
  if (request.usage === 'ca') {
    extensions.push(new x509.BasicConstraintsExtension(true, undefined, true));
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyCertSign, true));
  } else {
    extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
    extensions.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true));
    const usages = [
      ...(request.usage.includes('server') ? [x509.ExtendedKeyUsage.serverAuth] : []),
      ...(request.usage.includes('client') ? [x509.ExtendedKeyUsage.clientAuth] : []),
    ];
    extensions.push(new x509.ExtendedKeyUsageExtension(usages, false));
    const names = [
      ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
  }
  if (issuer) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuer.certificate, false));
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: `01${randomBytes(15).toString('hex')}`,
    subject: new x509.Name(subject).toString(),
    issuer: issuer ? issuer.certificate.subject : new x509.Name(subject).toString(),
    notBefore: request.notBefore,
    notAfter: new Date(request.notBefore.getTime() + request.days * DAY_MS),
    signingAlgorithm: SIGNING,
    publicKey: pair.keys.publicKey,
    signingKey: issuer ? issuer.keys.privateKey : pair.keys.privateKey,
    extensions,
  });
  return { ...pair, certificate, certPem: certificate.toString('pem') };
}

// A key or certificate as it lands in the image.
export interface PkiFile {
  path: string;
  content: string;
  mode: number;
}

// A certificate and its key as DIR/NAME.crt (0644) and DIR/NAME.key (0600), the layout k3s and kubeadm share.
export function listPemFiles(dir: string, name: string, cert: IssuedCertificate): PkiFile[] {
  return [
    { path: `${dir}/${name}.crt`, content: cert.certPem, mode: 0o644 },
    { path: `${dir}/${name}.key`, content: cert.keyPem, mode: 0o600 },
  ];
}
