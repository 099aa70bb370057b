/**
 * Sizes of entries, in the two senses etcd-io/raft uses:
 * - the *encoded* size (what an entry costs on the wire and on disk, as `codec.ts` writes it),
 *   used for MaxSizePerMsg and MaxCommittedSizePerReady;
 * - the *payload* size (just the data bytes), used for MaxUncommittedEntriesSize and
 *   MaxInflightBytes, so that empty entries (a new leader's no-op) never count against a quota.
 */
import { bytesFieldSize, varintSize } from '../util/byte-writer';
import type { Entry } from './types';

/** Encoded size of one entry, exactly as `codec.ts` encodes it inside a message. */
export function entrySize(e: Entry): number {
  return 1 + varintSize(e.term) + varintSize(e.index) + bytesFieldSize(e.data);
}

/** Sum of {@link entrySize} over `ents`. */
export function entriesSize(ents: readonly Entry[]): number {
  let total = 0;
  for (const e of ents) total += entrySize(e);
  return total;
}

/** Payload size of one entry: its data length. */
export function payloadSize(e: Entry): number {
  return e.data.length;
}

/** Sum of {@link payloadSize} over `ents`. */
export function payloadsSize(ents: readonly Entry[]): number {
  let total = 0;
  for (const e of ents) total += e.data.length;
  return total;
}

/**
 * The longest prefix of `ents` whose encoded size stays within `maxSize`, but never fewer than
 * one entry (so progress is always possible even with one oversized entry). Returns `ents`
 * itself when nothing is cut.
 */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!);
    if (size > maxSize) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}
