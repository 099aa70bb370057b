/** Session passwords derived from the id and the cluster secret (DESIGN §5). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { passwordMatches, sessionPassword } from '../../../../zkproxy/session/session-password';

test('passwords are 16 bytes, deterministic per (secret, id), and checked exactly', () => {
  const secret = Buffer.from('cluster-secret');
  const p = sessionPassword(secret, 0x694d5d2f465b6c07n);
  assert.equal(p.length, 16);
  assert.deepEqual(sessionPassword(secret, 0x694d5d2f465b6c07n), p);
  assert.notDeepEqual(sessionPassword(secret, 1n), p);
  assert.notDeepEqual(sessionPassword(Buffer.from('other'), 0x694d5d2f465b6c07n), p);
  assert.ok(passwordMatches(secret, 0x694d5d2f465b6c07n, p));
  assert.ok(!passwordMatches(secret, 0x694d5d2f465b6c07n, Buffer.alloc(16)));
  assert.ok(!passwordMatches(secret, 0x694d5d2f465b6c07n, p.subarray(0, 15)));
});
