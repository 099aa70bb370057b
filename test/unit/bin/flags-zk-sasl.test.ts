/** The coracle binary's SASL flags for the ZooKeeper front end, as flags and as ETCD_* variables. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '../../../bin/flags';

test('SASL flags default off', () => {
  const f = parseFlags([], {});
  assert.equal(f['zk-sasl-users-file'], '');
  assert.equal(f['zk-sasl-required'], false);
  assert.equal(f['zk-sasl-allow-failed-clients'], false);
  assert.deepEqual(f['zk-sasl-super-user'], []);
});

test('SASL flags from the command line and from ETCD_* variables (the command line wins)', () => {
  const env = { ETCD_ZK_SASL_USERS_FILE: '/etc/env-jaas.conf', ETCD_ZK_SASL_REQUIRED: 'true', ETCD_ZK_SASL_SUPER_USER: 'admin,ops' };
  const f = parseFlags([], env);
  assert.equal(f['zk-sasl-users-file'], '/etc/env-jaas.conf');
  assert.equal(f['zk-sasl-required'], true);
  assert.deepEqual(f['zk-sasl-super-user'], ['admin', 'ops']);
  const g = parseFlags(['--zk-sasl-users-file', '/etc/zk/jaas.conf', '--zk-sasl-allow-failed-clients'], env);
  assert.equal(g['zk-sasl-users-file'], '/etc/zk/jaas.conf');
  assert.equal(g['zk-sasl-allow-failed-clients'], true);
});
