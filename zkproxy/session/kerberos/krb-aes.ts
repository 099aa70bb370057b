/**
 * Kerberos' AES encryption types, aes128-cts-hmac-sha1-96 (17) and aes256-cts-hmac-sha1-96
 * (18): RFC 3961's simplified profile (n-fold, key derivation, confounder, HMAC-SHA1-96
 * integrity) over AES in CBC mode with ciphertext stealing (RFC 3962). These are what MIT
 * Kerberos, Active Directory and the JDK issue by default; the older DES, 3DES and RC4 types
 * are not supported.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A Kerberos key: its encryption type and bytes. */
export interface KrbKey {
  etype: number;
  key: Buffer;
}

/** The encryption types this module implements, by number. */
export const AES_ETYPES: ReadonlyMap<number, { name: string; keyBytes: number; checksumType: number }> = new Map([
  [17, { name: 'aes128-cts-hmac-sha1-96', keyBytes: 16, checksumType: 15 }],
  [18, { name: 'aes256-cts-hmac-sha1-96', keyBytes: 32, checksumType: 16 }],
]);

/** A decryption or integrity failure, or an unsupported or malformed key. */
export class KrbCryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KrbCryptoError';
  }
}

const BLOCK = 16;
const MAC_BYTES = 12;
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

function cipherName(key: Buffer): string {
  if (key.length !== 16 && key.length !== 32) throw new KrbCryptoError(`AES key of ${key.length} bytes`);
  return `aes-${key.length * 8}-cbc`;
}

function cbc(key: Buffer, data: Buffer, encrypt: boolean): Buffer {
  const c = encrypt ? createCipheriv(cipherName(key), key, ZERO_IV) : createDecipheriv(cipherName(key), key, ZERO_IV);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** One AES block through the raw cipher (CBC with a zero IV on one block is ECB). */
function aesBlock(key: Buffer, block: Buffer, encrypt: boolean): Buffer {
  return cbc(key, block, encrypt);
}

/** RFC 3962 CBC-CTS encryption with a zero IV; `p` is at least one block. */
export function ctsEncrypt(key: Buffer, p: Buffer): Buffer {
  if (p.length < BLOCK) throw new KrbCryptoError('CTS input shorter than one block');
  if (p.length === BLOCK) return aesBlock(key, p, true);
  const blocks = Math.ceil(p.length / BLOCK);
  const tail = p.length - (blocks - 1) * BLOCK;
  const padded = Buffer.alloc(blocks * BLOCK);
  p.copy(padded);
  const c = cbc(key, padded, true);
  // Swap the last two blocks and keep only `tail` bytes of what was the second-to-last.
  const head = c.subarray(0, (blocks - 2) * BLOCK);
  const last = c.subarray((blocks - 1) * BLOCK);
  const stolen = c.subarray((blocks - 2) * BLOCK, (blocks - 2) * BLOCK + tail);
  return Buffer.concat([head, last, stolen]);
}

/** Inverse of {@link ctsEncrypt}. */
export function ctsDecrypt(key: Buffer, c: Buffer): Buffer {
  if (c.length < BLOCK) throw new KrbCryptoError('CTS input shorter than one block');
  if (c.length === BLOCK) return aesBlock(key, c, false);
  const blocks = Math.ceil(c.length / BLOCK);
  const tail = c.length - (blocks - 1) * BLOCK;
  const head = c.subarray(0, (blocks - 2) * BLOCK);
  const lastFull = c.subarray((blocks - 2) * BLOCK, (blocks - 1) * BLOCK);
  const partial = c.subarray((blocks - 1) * BLOCK);
  // The full block's decryption ends with the bytes stolen from the block before it.
  const d = aesBlock(key, lastFull, false);
  const secondToLast = Buffer.concat([partial, d.subarray(tail)]);
  const p = cbc(key, Buffer.concat([head, secondToLast, lastFull]), false);
  return p.subarray(0, c.length);
}

/** RFC 3961 DK for AES: the key derived from `base` for `constant`. */
export function deriveKey(base: Buffer, constant: Buffer): Buffer {
  const out: Buffer[] = [];
  let block = nfold(constant, BLOCK);
  for (let have = 0; have < base.length; have += BLOCK) {
    block = aesBlock(base, block, true);
    out.push(block);
  }
  return Buffer.concat(out).subarray(0, base.length);
}

function usageConstant(usage: number, kind: number): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(usage, 0);
  b[4] = kind;
  return b;
}

function checkKey(k: KrbKey): void {
  const t = AES_ETYPES.get(k.etype);
  if (!t) throw new KrbCryptoError(`encryption type ${k.etype} is not supported (only aes128-cts-hmac-sha1-96 (17) and aes256-cts-hmac-sha1-96 (18))`);
  if (k.key.length !== t.keyBytes) throw new KrbCryptoError(`${t.name} key of ${k.key.length} bytes`);
}

/** Encrypts `plain` under `k` for key usage `usage` (a fresh confounder; ciphertext ‖ MAC). */
export function encrypt(k: KrbKey, usage: number, plain: Buffer, confounder: Buffer = randomBytes(BLOCK)): Buffer {
  checkKey(k);
  const p = Buffer.concat([confounder, plain]);
  const c = ctsEncrypt(deriveKey(k.key, usageConstant(usage, 0xaa)), p);
  const mac = createHmac('sha1', deriveKey(k.key, usageConstant(usage, 0x55))).update(p).digest().subarray(0, MAC_BYTES);
  return Buffer.concat([c, mac]);
}

/** Decrypts and verifies what {@link encrypt} made; throws {@link KrbCryptoError} on any mismatch. */
export function decrypt(k: KrbKey, usage: number, cipher: Buffer): Buffer {
  checkKey(k);
  if (cipher.length < BLOCK + MAC_BYTES) throw new KrbCryptoError('ciphertext too short');
  const c = cipher.subarray(0, cipher.length - MAC_BYTES);
  const p = ctsDecrypt(deriveKey(k.key, usageConstant(usage, 0xaa)), c);
  const want = createHmac('sha1', deriveKey(k.key, usageConstant(usage, 0x55))).update(p).digest().subarray(0, MAC_BYTES);
  if (!timingSafeEqual(want, cipher.subarray(cipher.length - MAC_BYTES))) throw new KrbCryptoError('integrity check failed (wrong key?)');
  return p.subarray(BLOCK);
}

/** The keyed checksum (HMAC-SHA1-96 under the usage's Kc) of `data`. */
export function checksum(k: KrbKey, usage: number, data: Buffer): Buffer {
  checkKey(k);
  return createHmac('sha1', deriveKey(k.key, usageConstant(usage, 0x99))).update(data).digest().subarray(0, MAC_BYTES);
}

/** The checksum's length in bytes (HMAC-SHA1-96). */
export const CHECKSUM_BYTES = MAC_BYTES;
