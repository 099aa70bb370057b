/**
 * One header field as HPACK sees it: raw bytes for name and value (HTTP/2 field values are
 * octets, not text), and whether the sender asked intermediaries never to index it.
 */

/** A decoded header field. Buffers may be shared with a table entry: treat them as read-only. */
export interface HpackField {
  readonly name: Buffer;
  readonly value: Buffer;
  /** Sent as "literal never indexed" (RFC 7541 §6.2.3); a re-encoder must keep that form. */
  readonly sensitive: boolean;
}

/** Per-entry overhead counted in table sizes (RFC 7541 §4.1). */
export const HPACK_ENTRY_OVERHEAD = 32;

/** The size of a field in a dynamic table and in SETTINGS_MAX_HEADER_LIST_SIZE (RFC 7541 §4.1). */
export function hpackFieldSize(field: HpackField): number {
  return field.name.length + field.value.length + HPACK_ENTRY_OVERHEAD;
}

/** A field with latin1 name and value (tests, constant tables). */
export function hpackField(name: string, value: string, sensitive = false): HpackField {
  return { name: Buffer.from(name, 'latin1'), value: Buffer.from(value, 'latin1'), sensitive };
}
