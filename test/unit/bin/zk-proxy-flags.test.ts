/** `coracle zk-proxy` flags (zkproxy/cli.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseZkFlags } from '../../../zkproxy/cli';

test('flags in both --a=b and --a b forms', () => {
  const o = parseZkFlags(['--endpoints=http://127.0.0.1:2379,http://127.0.0.1:22379', '--zk-listen', '0.0.0.0:2182', '--zk-tick-time=1000', '--zk-max-buffer', '4096', '--zk-ttl-nodes=false', '--log-level=debug']);
  assert.deepEqual(o.endpoints, ['http://127.0.0.1:2379', 'http://127.0.0.1:22379']);
  assert.equal(o.host, '0.0.0.0');
  assert.equal(o.port, 2182);
  assert.equal(o.tickTime, 1000);
  assert.equal(o.maxFrame, 4096);
  assert.equal(o.ttlEnabled, false);
});

test('IPv6 listen address and defaults', () => {
  const o = parseZkFlags(['--zk-listen=[::1]:2181']);
  assert.equal(o.host, '::1');
  assert.deepEqual(o.endpoints, ['http://127.0.0.1:2379']);
});

test('bad flags are errors that say what to do', () => {
  assert.throws(() => parseZkFlags(['--nope=1']), /unknown flag --nope/);
  assert.throws(() => parseZkFlags(['--zk-tick-time=abc']), /non-negative integer/);
  assert.throws(() => parseZkFlags(['--zk-min-session-timeout=9000', '--zk-max-session-timeout=4000']), /must not exceed/);
  assert.throws(() => parseZkFlags(['--zk-listen']), /needs a value/);
});

test('SASL flags: users file, booleans bare or with a value, super users', () => {
  const o = parseZkFlags(['--zk-sasl-users-file', '/etc/zk/jaas.conf', '--zk-sasl-required', '--zk-sasl-super-user=admin, ops', '--zk-sasl-allow-failed-clients=false']);
  assert.deepEqual(o.sasl, { usersFile: '/etc/zk/jaas.conf', required: true, superUsers: ['admin', 'ops'], allowFailedClients: false });
  assert.equal(parseZkFlags(['--zk-sasl-allow-failed-clients']).sasl.allowFailedClients, true);
  assert.deepEqual(parseZkFlags([]).sasl, {});
  assert.throws(() => parseZkFlags(['--zk-sasl-required=yes']), /must be true or false/);
});
