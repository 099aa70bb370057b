/**
 * An HPACK decoder (RFC 7541) for one direction of one HTTP/2 connection: it keeps the dynamic
 * table the peer's encoder assumes, so every header block of the connection must be fed to it
 * in order, each exactly once.
 *
 * Decoding errors (§3: bad index, bad integer, bad Huffman, a table size update above the limit
 * or after a field, a truncated block) throw {@link HpackError}; after one, the decoder's table
 * no longer matches the peer's and the connection must not use it again.
 */

import { HpackDynamicTable } from './hpack-dynamic-table';
import { HpackError } from './hpack-error';
import { type HpackField, HPACK_ENTRY_OVERHEAD } from './hpack-field';
import { huffmanDecode } from './hpack-huffman';
import { HPACK_STATIC_TABLE, HPACK_STATIC_TABLE_LENGTH } from './hpack-static-table';

/** Options of an {@link HpackDecoder}. */
export interface HpackDecoderOptions {
  /**
   * SETTINGS_HEADER_TABLE_SIZE as advertised by the decoding side (HTTP/2 default 4096): the
   * initial and the largest dynamic table size the encoder may use.
   */
  maxTableSize?: number;
  /**
   * Bound on one decoded header list (name + value + 32 per field, the §4.1 measure): indexed
   * references let a small block expand a lot, so decoding stops with an error past this.
   */
  maxHeaderListBytes?: number;
}

/** Integers above this are no length, index or size we could accept; it also keeps math exact. */
const MAX_INTEGER = 2 ** 30;

/** Decodes header blocks of one HPACK context. */
export class HpackDecoder {
  readonly table: HpackDynamicTable;
  private readonly maxHeaderListBytes: number;
  private src: Buffer = Buffer.alloc(0);
  private pos = 0;

  constructor(options: HpackDecoderOptions = {}) {
    this.table = new HpackDynamicTable(options.maxTableSize ?? 4096);
    this.maxHeaderListBytes = options.maxHeaderListBytes ?? 256 * 1024;
  }

  /**
   * Decodes one complete header block (the concatenated fragments of a HEADERS or PUSH_PROMISE
   * frame and its CONTINUATIONs) and updates the dynamic table. Returned fields may share
   * memory with `block` and with table entries; they stay valid as long as the caller keeps them.
   */
  decode(block: Buffer): HpackField[] {
    this.src = block;
    this.pos = 0;
    const fields: HpackField[] = [];
    let listBytes = 0;
    while (this.pos < block.length) {
      const first = block[this.pos];
      let field: HpackField;
      if (first >= 0x80) {
        field = this.entry(this.integer(7)); // §6.1 indexed
      } else if (first >= 0x40) {
        field = this.literal(6, false); // §6.2.1 with incremental indexing
        this.table.add(field);
      } else if (first >= 0x20) {
        // §4.2: size updates only at the start of a block.
        if (fields.length > 0) throw new HpackError('table size update after a header field');
        this.table.setMaxSize(this.integer(5));
        continue;
      } else {
        field = this.literal(4, first >= 0x10); // §6.2.2 without / §6.2.3 never indexed
      }
      listBytes += field.name.length + field.value.length + HPACK_ENTRY_OVERHEAD;
      if (listBytes > this.maxHeaderListBytes) {
        throw new HpackError(`header list above ${this.maxHeaderListBytes} bytes`);
      }
      fields.push(field);
    }
    this.src = EMPTY; // do not keep the caller's block alive
    return fields;
  }

  /** A literal representation whose index prefix has `prefixBits` bits (§6.2). */
  private literal(prefixBits: number, sensitive: boolean): HpackField {
    const indexed = prefixBits === 6;
    const index = this.integer(prefixBits);
    // Strings that go into the table are copied: they must not pin the caller's chunk.
    const name = index === 0 ? this.string(indexed) : this.entry(index).name;
    const value = this.string(indexed);
    return { name, value, sensitive };
  }

  /** Static or dynamic table entry `index` (§2.3.3). */
  private entry(index: number): HpackField {
    if (index === 0) throw new HpackError('index 0');
    if (index <= HPACK_STATIC_TABLE_LENGTH) return HPACK_STATIC_TABLE[index - 1];
    const field = this.table.get(index - HPACK_STATIC_TABLE_LENGTH);
    if (field === undefined) throw new HpackError(`index ${index} beyond the table`);
    return field;
  }

  /** A string literal (§5.2): H flag, 7-bit-prefix length, raw or Huffman octets. */
  private string(copy: boolean): Buffer {
    if (this.pos >= this.src.length) throw new HpackError('truncated block');
    const huffman = this.src[this.pos] >= 0x80;
    const length = this.integer(7);
    const start = this.pos;
    const end = start + length;
    if (end > this.src.length) throw new HpackError('string beyond the end of the block');
    this.pos = end;
    if (huffman) return huffmanDecode(this.src, start, end);
    const raw = this.src.subarray(start, end);
    return copy ? Buffer.from(raw) : raw;
  }

  /** An integer with an N-bit prefix (§5.1), starting at the current octet. */
  private integer(prefixBits: number): number {
    const src = this.src;
    const mask = (1 << prefixBits) - 1;
    let value = src[this.pos++] & mask;
    if (value < mask) return value;
    let factor = 1;
    for (;;) {
      if (this.pos >= src.length) throw new HpackError('truncated integer');
      const b = src[this.pos++];
      value += (b & 0x7f) * factor;
      factor *= 128;
      // Also bounds the octet count: zero-valued continuation octets add nothing to `value`.
      if (value > MAX_INTEGER || factor > MAX_INTEGER * 128) throw new HpackError('integer too large');
      if (b < 0x80) return value;
    }
  }
}

const EMPTY = Buffer.alloc(0);
