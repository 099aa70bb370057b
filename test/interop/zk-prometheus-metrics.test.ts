/**
 * The ZooKeeper front end on the member's /metrics (bin/zk-metrics.ts): per-op requests, error
 * codes and latency histograms as answered, and the live counts read at the scrape, from the
 * real `coracle` binary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpGet, startCoracle } from '../support/coracle-server';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('ZooKeeper requests and counts on /metrics', { timeout: 60_000 }, async () => {
  const c = await startCoracle();
  const z = await ZkWireClient.connect({ host: '127.0.0.1', port: c.zkPort, timeoutMs: 30_000 });
  try {
    assert.equal((await z.send({ op: 'create', path: '/e', data: Buffer.from('abc'), acl: OPEN, flags: 1 })).header.err, 0);
    assert.equal((await z.send({ op: 'create', path: '/p', data: null, acl: OPEN, flags: 0 })).header.err, 0);
    assert.equal((await z.send({ op: 'create', path: '/p', data: null, acl: OPEN, flags: 0 })).header.err, -110, 'NODEEXISTS');
    assert.equal((await z.send({ op: 'getData', path: '/e', watch: true })).header.err, 0);
    assert.equal((await z.send({ op: 'getData', path: '/missing', watch: false })).header.err, -101, 'NONODE');
    const r = await httpGet(c.clientPort, '/metrics');
    assert.equal(r?.status, 200);
    const m = r!.body;
    assert.equal(sample(m, 'coracle_zk_requests_total{op="create"}'), 3);
    assert.equal(sample(m, 'coracle_zk_requests_total{op="getData"}'), 2);
    assert.equal(sample(m, 'coracle_zk_request_errors_total{op="create",code="NODEEXISTS"}'), 1);
    assert.equal(sample(m, 'coracle_zk_request_errors_total{op="getData",code="NONODE"}'), 1);
    assert.equal(sample(m, 'coracle_zk_request_duration_seconds_count{op="create"}'), 3);
    assert.equal(sample(m, 'coracle_zk_request_duration_seconds_bucket{op="create",le="+Inf"}'), 3);
    assert.ok(sample(m, 'coracle_zk_request_duration_seconds_sum{op="create"}')! > 0);
    assert.match(m, /^# TYPE coracle_zk_request_duration_seconds histogram$/m);
    assert.equal(sample(m, 'coracle_zk_connections'), 1);
    assert.equal(sample(m, 'coracle_zk_sessions'), 1);
    assert.equal(sample(m, 'coracle_zk_znodes'), 6, '/, /zookeeper, its two children, /e and /p');
    assert.equal(sample(m, 'coracle_zk_ephemerals'), 1);
    assert.equal(sample(m, 'coracle_zk_watches'), 1);
    assert.equal(sample(m, 'coracle_zk_approximate_data_size_bytes'), 44 + '/e'.length + 3 + '/p'.length);
    assert.equal(sample(m, 'coracle_zk_write_conflicts_total'), 0);
    assert.ok(sample(m, 'etcd_server_has_leader') === 1, 'beside the etcd metrics');
  } finally {
    await z.close();
    await c.stop();
  }
});
