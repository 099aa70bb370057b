/**
 * AES in CBC mode with ciphertext stealing and a zero IV, the cipher mode of Kerberos' AES
 * encryption types (RFC 3962 §5, also used by RFC 8009): the output is exactly as long as the
 * input (at least one block), the last two blocks swapped.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { KrbCryptoError } from './krb-crypto-error';

const BLOCK = 16;
const ZERO_IV = Buffer.alloc(BLOCK);

function cipherName(key: Buffer): string {
  if (key.length !== 16 && key.length !== 32) throw new KrbCryptoError(`AES key of ${key.length} bytes`);
  return `aes-${key.length * 8}-cbc`;
}

function cbc(key: Buffer, data: Buffer, encrypt: boolean): Buffer {
  const c = encrypt ? createCipheriv(cipherName(key), key, ZERO_IV) : createDecipheriv(cipherName(key), key, ZERO_IV);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** One AES block through the raw cipher, for key derivation (CBC with a zero IV on one block is ECB). */
export function aesBlock(key: Buffer, block: Buffer, encrypt: boolean): Buffer {
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

