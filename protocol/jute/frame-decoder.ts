/**
 * `FrameDecoder`: splits a TCP byte stream into length-prefixed frames (zk-protocol.md §1.1).
 * A length that is negative or above the configured maximum (jute.maxbuffer, 0xfffff by
 * default) is a {@link JuteDecodeError}, reported before any of the payload is buffered, so an
 * oversize length can never make us allocate it. Chunks are kept in a list and joined only when
 * a whole frame is present.
 */
import { JuteDecodeError } from './jute-error';

/** Incremental decoder of `int32 length + payload` frames. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** @param maxFrame the largest payload accepted, in bytes */
  constructor(private readonly maxFrame: number) {}

  /** Appends bytes read from the socket. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** Bytes buffered and not yet returned as frames. */
  bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * The first 4 buffered bytes as a big-endian int, without consuming them, or undefined if
   * fewer than 4 are buffered. The listener uses it to spot four-letter words.
   */
  peekInt(): number | undefined {
    return this.peek(4)?.readInt32BE(0);
  }

  /**
   * The first `n` buffered bytes without consuming them, or undefined if fewer are buffered
   * (a four-letter word's argument: stmk's mask after the word).
   */
  peek(n: number): Buffer | undefined {
    if (this.buffered < n) return undefined;
    return this.take(n, false);
  }

  /** The next complete frame's payload, or undefined if it has not fully arrived. */
  next(): Buffer | undefined {
    const len = this.peekInt();
    if (len === undefined) return undefined;
    if (len < 0) throw new JuteDecodeError('negative-length', `frame length ${len}`);
    if (len > this.maxFrame) {
      throw new JuteDecodeError('too-long', `frame length ${len} exceeds ${this.maxFrame}`);
    }
    if (this.buffered < 4 + len) return undefined;
    this.take(4, true);
    return this.take(len, true);
  }

  /** Removes (when `consume`) and returns the first `n` buffered bytes. */
  private take(n: number, consume: boolean): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (consume) {
        if (first.length === n) this.chunks.shift();
        else this.chunks[0] = first.subarray(n);
      }
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      if (consume) this.chunks = all.length > n ? [all.subarray(n)] : [];
      else this.chunks = [all];
    }
    if (consume) this.buffered -= n;
    return out;
  }
}
