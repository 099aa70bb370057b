/**
 * Helpers for 64-bit wire values. DESIGN §6: every 64-bit wire value is a `bigint`; a hot path
 * that wants `number` converts here, and the conversion asserts that nothing is lost.
 */
import { assertFailed } from './assert';

/** Converts a bigint to a number; crashes if the value is not a safe integer. */
export function toSafeNumber(value: bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) assertFailed(`64-bit value ${value} does not fit a safe integer`);
  return n;
}

/** Converts a safe integer to a bigint; crashes on a fraction or an unsafe value. */
export function toBig(value: number): bigint {
  if (!Number.isSafeInteger(value)) assertFailed(`value ${value} is not a safe integer`);
  return BigInt(value);
}

/** Reinterprets an unsigned 64-bit value as signed (two's complement), as protobuf int64 does. */
export function asInt64(value: bigint): bigint {
  return BigInt.asIntN(64, value);
}

/** Reinterprets a signed 64-bit value as unsigned. */
export function asUint64(value: bigint): bigint {
  return BigInt.asUintN(64, value);
}

/** Formats an id as etcdctl prints it: lower-case hex without leading zeros. */
export function toHex(value: bigint): string {
  return asUint64(value).toString(16);
}
