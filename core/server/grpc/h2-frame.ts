/**
 * HTTP/2 frame layout constants (RFC 9113 §4.1, §6) and the 9-octet frame header, as the
 * client→server filter needs them.
 */

/** Octets of a frame header: length (24), type (8), flags (8), R + stream id (32). */
export const H2_FRAME_HEADER_BYTES = 9;

/** SETTINGS_MAX_FRAME_SIZE's initial value (RFC 9113 §6.5.2); node:http2 keeps it by default. */
export const H2_DEFAULT_MAX_FRAME_SIZE = 16_384;

/** Frame types the filter looks at. */
export const H2FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PUSH_PROMISE: 0x5,
  CONTINUATION: 0x9,
} as const;

/** Frame flags the filter looks at. */
export const H2Flag = {
  END_STREAM: 0x1,
  /** On SETTINGS and PING (the same bit as END_STREAM). */
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** Octets a HEADERS frame's PRIORITY flag adds: E + stream dependency (4) and weight (1). */
export const H2_PRIORITY_BYTES = 5;

/** A parsed frame header. */
export interface H2FrameHeader {
  length: number;
  type: number;
  flags: number;
  streamId: number;
}

/** Reads the frame header at `at` (the caller guarantees 9 octets). */
export function readFrameHeader(src: Buffer, at: number): H2FrameHeader {
  return {
    length: (src[at] << 16) | (src[at + 1] << 8) | src[at + 2],
    type: src[at + 3],
    flags: src[at + 4],
    streamId: src.readUInt32BE(at + 5) & 0x7fffffff,
  };
}

/** Writes a frame header at `at`; returns the offset after it. */
export function writeFrameHeader(out: Buffer, at: number, header: H2FrameHeader): number {
  out[at] = (header.length >>> 16) & 0xff;
  out[at + 1] = (header.length >>> 8) & 0xff;
  out[at + 2] = header.length & 0xff;
  out[at + 3] = header.type;
  out[at + 4] = header.flags;
  out.writeUInt32BE(header.streamId >>> 0, at + 5);
  return at + H2_FRAME_HEADER_BYTES;
}
