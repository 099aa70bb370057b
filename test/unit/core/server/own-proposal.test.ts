/**
 * requestOfEntry (own-proposal.ts): a proposer's own entry yields its request object; any other
 * array (the same bytes from the WAL or the network) is decoded; check mode crashes when the
 * object and the bytes disagree, which is what the test suite relies on to prove the shortcut
 * never makes the proposer apply something the other members do not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeApplyRequest, peekRequestId } from '../../../../core/apply/apply-codec';
import { ApplyRequest } from '../../../../core/apply/apply-request';
import { requestOfEntry } from '../../../../core/server/own-proposal';
import { AssertionError } from '../../../../core/util/assert';

function putReq(key: Uint8Array): ApplyRequest {
  // The type says Buffer; a caller could still slip a plain Uint8Array through a cast.
  return {
    header: { id: -0x1234_5678n, username: 'u', authRevision: 2 },
    body: { type: 'put', put: { key: key as Buffer, value: Buffer.from('v'), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false } },
  };
}

test('an own entry yields the proposed object; a copy of its bytes is decoded', () => {
  const req = putReq(Buffer.from('k'));
  const data = encodeApplyRequest(req);
  assert.equal(peekRequestId(data), req.header.id);
  assert.equal(requestOfEntry(data, { data, req }, true), req);
  const copy = Uint8Array.from(data);
  const decoded = requestOfEntry(copy, { data, req }, true);
  assert.notEqual(decoded, req);
  assert.deepEqual(decoded, req);
  assert.notEqual(requestOfEntry(data, undefined, false), req);
});

test('check mode crashes when the proposed object differs from its bytes', () => {
  // A Uint8Array key: the codec decodes a Buffer, and apply could treat the two differently.
  const plain = putReq(new Uint8Array([107]));
  const plainData = encodeApplyRequest(plain);
  assert.throws(() => requestOfEntry(plainData, { data: plainData, req: plain }, true), AssertionError);
  assert.equal(requestOfEntry(plainData, { data: plainData, req: plain }, false), plain);
  // Mutated after encoding.
  const req = putReq(Buffer.from('k'));
  const data = encodeApplyRequest(req);
  if (req.body.type === 'put') req.body.put.value = Buffer.from('changed');
  assert.throws(() => requestOfEntry(data, { data, req }, true), AssertionError);
});

test('peekRequestId refuses what is not a request prefix', () => {
  assert.equal(peekRequestId(new Uint8Array(5)), undefined);
  const data = encodeApplyRequest(putReq(Buffer.from('k')));
  data[0] = 99;
  assert.equal(peekRequestId(data), undefined);
});
