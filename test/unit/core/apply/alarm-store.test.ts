/**
 * AlarmStore: an alarm raised for a member id above 2^63 (carried as a negative int64 by the
 * apply log) can be disarmed with either form, also after a reload from storage (a restart).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlarmStore } from '../../../../core/apply/alarm-store';
import { AlarmType } from '../../../../core/apply/apply-request';
import { MemBackend } from '../../../../core/storage/mem-backend';

const HIGH = 0x8e9e05c52164694dn; // etcd's default member id: above 2^63
const SIGNED = BigInt.asIntN(64, HIGH);

test('an alarm of a member id above 2^63 is one alarm, before and after a reload', async () => {
  const backend = new MemBackend();
  const before = new AlarmStore();
  await backend.write((txn) => before.activate(txn, SIGNED, AlarmType.NoSpace));
  assert.deepEqual(before.list(), [{ memberId: HIGH, alarm: AlarmType.NoSpace }]);
  const after = new AlarmStore();
  backend.read((txn) => after.load(txn));
  assert.deepEqual(after.list(), [{ memberId: HIGH, alarm: AlarmType.NoSpace }]);
  const gone = await backend.write((txn) => after.deactivate(txn, SIGNED, AlarmType.NoSpace));
  assert.ok(gone, 'disarmed with the signed form after a reload');
  assert.equal(after.has(AlarmType.NoSpace), false);
  const again = new AlarmStore();
  backend.read((txn) => again.load(txn));
  assert.deepEqual(again.list(), [], 'the disarm reached storage');
});
