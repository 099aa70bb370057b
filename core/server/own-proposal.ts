/**
 * A proposer applies its own request object instead of decoding its own log entry (the decode
 * was ≈ 5% of a ZooKeeper create's CPU).
 *
 * Why this is safe: an entry's data is the very Uint8Array that `propose` encoded only while it
 * never left this process (Raft keeps the proposal's array through append, commit and Ready);
 * after a restart or on another member the entry comes from the WAL or the network, is another
 * array, and is decoded. So the proposer applies `req` where the others apply
 * `decode(encode(req))`, and the two must be equal. The codec's round-trip tests check that
 * per field; `check` mode (on for the whole test suite through `CORACLE_CHECK_OWN_ENTRIES=1`)
 * also decodes every own entry and crashes on any difference, so a caller that hands over a
 * value the codec normalises (a Uint8Array for a Buffer, an unsigned id) or mutates its request
 * after proposing is caught by every test that writes.
 */
import { isDeepStrictEqual } from 'node:util';
import { ApplyRequest } from '../apply/apply-request';
import { decodeApplyRequest } from '../apply/apply-codec';
import { assert } from '../util/assert';

/** A pending proposal: its encoded entry data and the request it encodes. */
export interface OwnProposal {
  data: Uint8Array;
  req: ApplyRequest;
}

/**
 * The request of a committed entry's `data`: `own.req` when `data` is the array `own` proposed,
 * else the decoded bytes (throws DecodeError on bad bytes). With `check`, an own entry is
 * decoded too and must equal `own.req`, or the process crashes.
 */
export function requestOfEntry(data: Uint8Array, own: OwnProposal | undefined, check: boolean): ApplyRequest {
  if (own === undefined || own.data !== data) return decodeApplyRequest(data);
  if (check) {
    const decoded = decodeApplyRequest(data);
    assert(isDeepStrictEqual(own.req, decoded), `a proposed request differs from its log entry (${own.req.body.type}): this member would apply something other than the rest`);
  }
  return own.req;
}
