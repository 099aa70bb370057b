/**
 * Session passwords (DESIGN §5): HMAC-SHA256(cluster secret, session id), first 16 bytes. Any
 * proxy of the same cluster derives the same password, so a client can resume its session on
 * another proxy without any shared per-session state; the secret never leaves the store.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Length of a ZooKeeper session password. */
export const PASSWORD_BYTES = 16;

/** The password of session `id` under `secret`. */
export function sessionPassword(secret: Buffer, id: bigint): Buffer {
  const idBytes = Buffer.alloc(8);
  idBytes.writeBigInt64BE(BigInt.asIntN(64, id));
  return createHmac('sha256', secret).update(idBytes).digest().subarray(0, PASSWORD_BYTES);
}

/** True when `passwd` is the password of session `id` (constant-time compare). */
export function passwordMatches(secret: Buffer, id: bigint, passwd: Buffer): boolean {
  if (passwd.length !== PASSWORD_BYTES) return false;
  return timingSafeEqual(sessionPassword(secret, id), passwd);
}
