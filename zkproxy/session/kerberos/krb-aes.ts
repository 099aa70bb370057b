/**
 * Kerberos' AES encryption types: aes128-cts-hmac-sha1-96 (17) and aes256-cts-hmac-sha1-96 (18),
 * RFC 3961's simplified profile (n-fold key derivation, confounder, HMAC-SHA1-96 over the
 * plaintext; RFC 3962), and aes128-cts-hmac-sha256-128 (19) and aes256-cts-hmac-sha384-192 (20),
 * RFC 8009 (HMAC-SHA2 key derivation, HMAC over the ciphertext). All encrypt with AES-CBC-CTS
 * (aes-cts.ts). These are what MIT Kerberos, FreeIPA, Active Directory and the JDK use; the
 * older DES, 3DES and RC4 types are not supported.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { aesBlock, ctsDecrypt, ctsEncrypt } from './aes-cts';
import { KrbCryptoError } from './krb-crypto-error';

/** A Kerberos key: its encryption type and bytes. */
export interface KrbKey {
  etype: number;
  key: Buffer;
}

/** How one encryption type derives keys and computes its MAC. */
interface Profile {
  name: string;
  keyBytes: number;
  /** Bytes of the MAC and of the keyed checksum. */
  macBytes: number;
  /** RFC 8009's hash, or undefined for the RFC 3961 (SHA-1, n-fold) family. */
  sha2?: 'sha256' | 'sha384';
}

/** The encryption types this module implements, by number. */
export const AES_ETYPES: ReadonlyMap<number, Profile> = new Map<number, Profile>([
  [17, { name: 'aes128-cts-hmac-sha1-96', keyBytes: 16, macBytes: 12 }],
  [18, { name: 'aes256-cts-hmac-sha1-96', keyBytes: 32, macBytes: 12 }],
  [19, { name: 'aes128-cts-hmac-sha256-128', keyBytes: 16, macBytes: 16, sha2: 'sha256' }],
  [20, { name: 'aes256-cts-hmac-sha384-192', keyBytes: 32, macBytes: 24, sha2: 'sha384' }],
]);

const BLOCK = 16;
const ZERO_IV = Buffer.alloc(BLOCK);

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** `b` rotated right by `n` bits, taken as one big-endian bit string. */
function rotateRight(b: Buffer, n: number): Buffer {
  const bits = b.length * 8;
  const out = Buffer.alloc(b.length);
  for (let i = 0; i < bits; i++) {
    const src = (((i - n) % bits) + bits) % bits;
    if (b[src >> 3]! & (0x80 >> (src & 7))) out[i >> 3]! |= 0x80 >> (i & 7);
  }
  return out;
}

/**
 * RFC 3961 §5.1 n-fold: `input` stretched or folded to `outBytes` bytes (copies rotated 13
 * bits each, summed in one's-complement arithmetic).
 */
export function nfold(input: Buffer, outBytes: number): Buffer {
  const lcm = (input.length * outBytes) / gcd(input.length, outBytes);
  const copies: Buffer[] = [];
  for (let i = 0; i < lcm / input.length; i++) copies.push(rotateRight(input, 13 * i));
  const all = Buffer.concat(copies);
  const sum = new Array<number>(outBytes).fill(0);
  for (let at = 0; at < lcm; at += outBytes) addInto(sum, all.subarray(at, at + outBytes));
  return Buffer.from(sum);
}

/** `sum += chunk` in one's-complement arithmetic (end-around carry); both `sum.length` bytes. */
function addInto(sum: number[], chunk: Buffer): void {
  let carry = 0;
  for (let j = sum.length - 1; j >= 0; j--) {
    const s = sum[j]! + chunk[j]! + carry;
    sum[j] = s & 0xff;
    carry = s >> 8;
  }
  // The carry out of the top goes back in at the bottom; it can ripple round only once more.
  for (let round = 0; carry && round < 2; round++) {
    for (let j = sum.length - 1; j >= 0 && carry; j--) {
      const s = sum[j]! + carry;
      sum[j] = s & 0xff;
      carry = s >> 8;
    }
  }
}

/** RFC 3961 DK for AES: the key derived from `base` for `constant`. */
function deriveKey(base: Buffer, constant: Buffer): Buffer {
  const out: Buffer[] = [];
  let block = nfold(constant, BLOCK);
  for (let have = 0; have < base.length; have += BLOCK) {
    block = aesBlock(base, block, true);
    out.push(block);
  }
  return Buffer.concat(out).subarray(0, base.length);
}

/** RFC 8009 KDF-HMAC-SHA2: the first `bytes` of HMAC(base, 1 ‖ label ‖ 0 ‖ bits). */
export function kdfHmacSha2(hash: 'sha256' | 'sha384', base: Buffer, label: Buffer, bytes: number): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(bytes * 8);
  return createHmac(hash, base).update(Buffer.from([0, 0, 0, 1])).update(label).update(Buffer.from([0])).update(tail).digest().subarray(0, bytes);
}

function usageConstant(usage: number, kind: number): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(usage, 0);
  b[4] = kind;
  return b;
}

const KIND = { checksum: 0x99, encryption: 0xaa, integrity: 0x55 } as const;

function profileOf(k: KrbKey): Profile {
  const t = AES_ETYPES.get(k.etype);
  if (!t) throw new KrbCryptoError(`encryption type ${k.etype} is not supported (only ${[...AES_ETYPES].map(([n, p]) => `${p.name} (${n})`).join(', ')})`);
  if (k.key.length !== t.keyBytes) throw new KrbCryptoError(`${t.name} key of ${k.key.length} bytes`);
  return t;
}

/** The key `k` derives for `usage` and purpose `kind`. */
function derived(t: Profile, k: KrbKey, usage: number, kind: number): Buffer {
  const label = usageConstant(usage, kind);
  if (!t.sha2) return deriveKey(k.key, label);
  return kdfHmacSha2(t.sha2, k.key, label, kind === KIND.encryption ? t.keyBytes : t.macBytes);
}

function mac(t: Profile, key: Buffer, data: Buffer): Buffer {
  return createHmac(t.sha2 ?? 'sha1', key).update(data).digest().subarray(0, t.macBytes);
}

/** What the MAC covers: the plaintext (RFC 3961), or the zero IV and the ciphertext (RFC 8009). */
function macInput(t: Profile, plain: Buffer, cipher: Buffer): Buffer {
  return t.sha2 ? Buffer.concat([ZERO_IV, cipher]) : plain;
}

/** Encrypts `plain` under `k` for key usage `usage` (a fresh confounder; ciphertext ‖ MAC). */
export function encrypt(k: KrbKey, usage: number, plain: Buffer, confounder: Buffer = randomBytes(BLOCK)): Buffer {
  const t = profileOf(k);
  const p = Buffer.concat([confounder, plain]);
  const c = ctsEncrypt(derived(t, k, usage, KIND.encryption), p);
  return Buffer.concat([c, mac(t, derived(t, k, usage, KIND.integrity), macInput(t, p, c))]);
}

/** Decrypts and verifies what {@link encrypt} made; throws {@link KrbCryptoError} on any mismatch. */
export function decrypt(k: KrbKey, usage: number, cipher: Buffer): Buffer {
  const t = profileOf(k);
  if (cipher.length < BLOCK + t.macBytes) throw new KrbCryptoError('ciphertext too short');
  const c = cipher.subarray(0, cipher.length - t.macBytes);
  const p = ctsDecrypt(derived(t, k, usage, KIND.encryption), c);
  const want = mac(t, derived(t, k, usage, KIND.integrity), macInput(t, p, c));
  if (!timingSafeEqual(want, cipher.subarray(cipher.length - t.macBytes))) throw new KrbCryptoError('integrity check failed (wrong key?)');
  return p.subarray(BLOCK);
}

/** The keyed checksum of `data` under the usage's Kc (HMAC-SHA1-96, -SHA256-128 or -SHA384-192). */
export function checksum(k: KrbKey, usage: number, data: Buffer): Buffer {
  const t = profileOf(k);
  return mac(t, derived(t, k, usage, KIND.checksum), data);
}

/** The length of `k`'s checksums in bytes. */
export function checksumBytes(k: KrbKey): number {
  return profileOf(k).macBytes;
}
