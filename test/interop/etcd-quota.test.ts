/**
 * The backend quota with etcdctl 3.4, as an operator meets it: puts past `--quota-backend-bytes`
 * fail with etcd's "database space exceeded" and raise the NOSPACE alarm; reads and deletes still
 * work, writes stay refused while the alarm is armed; after deleting, compacting, defragmenting
 * and `alarm disarm` (etcd's runbook), writes succeed again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer } from '../support/peers';
import { etcdctl } from '../support/etcdctl';
import { startCoracle } from '../support/coracle-server';

const QUOTA = 2 * 1024 * 1024;
/** Each value is 64 KiB of text: about 32 of them fill the quota. */
const VALUE = 'q'.repeat(64 * 1024);
/** Bound on puts before the quota must have been hit. */
const MAX_PUTS = 100;

test('a put past the quota fails with NOSPACE; compact, defrag and disarm recover', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('etcdctl');
  if (skip) return t.skip(skip);
  const c = await startCoracle(['--quota-backend-bytes', String(QUOTA), '--zk-listen', '']);
  try {
    let refused: { stderr: string } | undefined;
    let n = 0;
    for (; n < MAX_PUTS && !refused; n++) {
      const r = await etcdctl(c.endpoint, ['put', `big/${n}`], { input: VALUE });
      if (r.code !== 0) refused = r;
    }
    assert.ok(refused, `no put was refused within ${MAX_PUTS} puts of 64 KiB under a 2 MiB quota`);
    assert.match(refused.stderr, /etcdserver: mvcc: database space exceeded/);
    assert.ok(n > 5, `refused too early (after ${n} puts)`);

    const alarms = await etcdctl(c.endpoint, ['alarm', 'list']);
    assert.match(alarms.stdout, /^memberID:\d+ alarm:NOSPACE $/m);
    const small = await etcdctl(c.endpoint, ['put', 'tiny', 'x']);
    assert.notEqual(small.code, 0, 'a write went through while NOSPACE was armed');
    assert.match(small.stderr, /database space exceeded/);
    const read = await etcdctl(c.endpoint, ['get', 'big/0', '--print-value-only']);
    assert.equal(read.stdout.trim(), VALUE, 'reads must keep working');

    const del = await etcdctl(c.endpoint, ['del', 'big/', '--prefix']);
    assert.equal(del.code, 0, del.stderr);
    const status = await etcdctl(c.endpoint, ['endpoint', 'status', '-w', 'json']);
    const rev = Number(/"revision":(\d+)/.exec(status.stdout)?.[1]);
    assert.ok(rev > 0, status.stdout);
    assert.equal((await etcdctl(c.endpoint, ['compaction', '--physical', String(rev)])).code, 0);
    assert.equal((await etcdctl(c.endpoint, ['defrag'])).code, 0);
    assert.equal((await etcdctl(c.endpoint, ['alarm', 'disarm'])).code, 0);
    assert.equal((await etcdctl(c.endpoint, ['alarm', 'list'])).stdout.trim(), '');
    const again = await etcdctl(c.endpoint, ['put', 'after', 'ok']);
    assert.equal(again.code, 0, `writes did not come back after the runbook: ${again.stderr}`);
  } finally {
    await c.stop();
  }
});
