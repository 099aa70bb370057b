/**
 * CRC-32C (Castagnoli), as etcd's HashKV uses. Table-driven; Node 20 has no built-in CRC-32C.
 */

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** Continues a CRC-32C over `data` from a previous value (start with 0). */
export function crc32cUpdate(crc: number, data: Uint8Array): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32C of `data`. */
export function crc32c(data: Uint8Array): number {
  return crc32cUpdate(0, data);
}
