/**
 * The raft codec round-trips every value, and decoding arbitrary or truncated bytes only ever
 * fails with DecodeError (a malformed peer message must never crash the process).
 */
import { test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import {
  decodeConfChangeV2,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  encodeConfChangeV2,
  encodeMessage,
} from '../../core/raft/codec';
import { DecodeError } from '../../core/raft/errors';
import { type ConfState, type Entry, type Message, MAX_MESSAGE_TYPE, type Snapshot } from '../../core/raft/types';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const safe = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const small = fc.integer({ min: 0, max: 1000 });
const bytes = fc.uint8Array({ maxLength: 40 });

const entryArb: fc.Arbitrary<Entry> = fc.record({ term: small, index: safe, type: fc.integer({ min: 0, max: 2 }), data: bytes });
const confStateArb: fc.Arbitrary<ConfState> = fc.record({
  voters: fc.array(u64, { maxLength: 5 }),
  learners: fc.array(u64, { maxLength: 3 }),
  votersOutgoing: fc.array(u64, { maxLength: 3 }),
  learnersNext: fc.array(u64, { maxLength: 3 }),
  autoLeave: fc.boolean(),
});
const snapshotArb: fc.Arbitrary<Snapshot> = fc.record({ data: bytes, metadata: fc.record({ index: safe, term: small, confState: confStateArb }) });

function messageArb(withResponses: boolean): fc.Arbitrary<Message> {
  return fc
    .record({
      type: fc.integer({ min: 0, max: MAX_MESSAGE_TYPE }),
      to: u64,
      from: u64,
      term: safe,
      logTerm: small,
      index: safe,
      entries: fc.array(entryArb, { maxLength: 4 }),
      commit: safe,
      vote: u64,
      snapshot: fc.option(snapshotArb, { nil: undefined }),
      reject: fc.boolean(),
      rejectHint: safe,
      context: bytes,
      responses: withResponses ? fc.array(messageArb(false), { maxLength: 2 }) : fc.constant([]),
    })
    .map((m) => {
      const out: Message = { ...m, responses: m.responses as Message[] };
      if (m.snapshot === undefined) delete out.snapshot;
      return out;
    });
}

/** A canonical rendering for deep comparison (fast-check records have a null prototype). */
function canon(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (x instanceof Uint8Array) return Array.from(x);
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      return Object.fromEntries(Object.entries(x as Record<string, unknown>).filter(([, val]) => val !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)));
    }
    return x;
  });
}

/** Runs `decode` and requires success or a DecodeError. */
function decodesOrDecodeError(decode: (b: Uint8Array) => unknown, b: Uint8Array): void {
  try {
    decode(b);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
}

test('property: messages round-trip', () => {
  fc.assert(
    fc.property(messageArb(true), (m) => {
      assert.equal(canon(decodeMessage(encodeMessage(m))), canon(m));
    }),
    { numRuns: 1000 },
  );
});

test('property: conf changes v2 round-trip', () => {
  const arb = fc.record({
    transition: fc.integer({ min: 0, max: 2 }),
    changes: fc.array(fc.record({ type: fc.integer({ min: 0, max: 3 }), nodeId: u64 }), { maxLength: 5 }),
    context: bytes,
  });
  fc.assert(
    fc.property(arb, (cc) => {
      assert.equal(canon(decodeConfChangeV2(encodeConfChangeV2(cc))), canon(cc));
    }),
    { numRuns: 500 },
  );
});

test('property: random bytes decode or fail with DecodeError only', () => {
  const decoders = [decodeMessage, decodeEntry, decodeHardState, decodeSnapshot, decodeConfChangeV2];
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (b, withHeader) => {
      // Half the inputs get a valid header, so decoding proceeds into the body.
      const input = withHeader && b.length > 2 ? new Uint8Array([1, 5, ...b.subarray(2)]) : b;
      for (const d of decoders) decodesOrDecodeError(d, input);
    }),
    { numRuns: 3000 },
  );
});

test('property: every truncation and single-byte corruption of a message is handled', () => {
  fc.assert(
    fc.property(messageArb(false), fc.nat(), fc.integer({ min: 0, max: 255 }), (m, pos, val) => {
      const buf = encodeMessage(m);
      const cut = pos % buf.length;
      assert.throws(() => decodeMessage(buf.subarray(0, cut)), DecodeError);
      const flipped = buf.slice();
      flipped[pos % buf.length] = val;
      decodesOrDecodeError(decodeMessage, flipped);
    }),
    { numRuns: 1000 },
  );
});
