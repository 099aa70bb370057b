/**
 * `/metrics` of the real `coracle` binary: valid Prometheus text 0.0.4, etcd's metric names with
 * the same types as a real etcd 3.4 serves them, values that follow what the server did (puts,
 * gRPC outcomes, fsyncs, health checks), HEAD without a body, other methods refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { requirePeer } from '../support/peers';
import { startEtcd } from '../support/etcd-peer';
import { etcdctl } from '../support/etcdctl';
import { httpGet, startCoracle } from '../support/coracle-server';

/** One HTTP request; resolves with status, headers and body (bounded by a timeout). */
function request(port: number, method: string, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** A parsed exposition: family → type, and sample line (name + labels) → value. */
interface Exposition {
  types: Map<string, string>;
  samples: Map<string, number>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|\+Inf|-Inf|NaN)$/;

/** Parses the text format strictly: every line is HELP, TYPE or a well-formed sample of a typed family. */
function parse(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      assert.ok(!types.has(type[1]!), `one TYPE line for ${type[1]}`);
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const m = SAMPLE.exec(line);
    assert.ok(m, `a valid sample line: ${JSON.stringify(line)}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, (s) => (types.has(m[1]!.slice(0, -s.length)) ? '' : s));
    assert.ok(types.has(family), `sample ${m[1]} follows its TYPE line`);
    samples.set(m[1]! + (m[2] ?? ''), Number(m[3] === '+Inf' ? Infinity : m[3]));
  }
  return { types, samples };
}

/** The families Coracle exports that etcd 3.4 also exports (ours minus the Node.js extras). */
function etcdFamilies(e: Exposition): Map<string, string> {
  return new Map([...e.types].filter(([name]) => !name.startsWith('nodejs_')));
}

test('coracle /metrics: format, values, methods', async () => {
  const coracle = await startCoracle(['--zk-listen', '']);
  try {
    for (let i = 0; i < 5; i++) assert.equal((await etcdctl([coracle.endpoint], ['put', `k${i}`, 'v'])).code, 0);
    await etcdctl([coracle.endpoint], ['get', 'k', '--rev', '999']);
    await httpGet(coracle.clientPort, '/health');
    const res = await request(coracle.clientPort, 'GET', '/metrics');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const { types, samples } = parse(res.body);
    const v = (name: string): number => {
      assert.ok(samples.has(name), `${name} is exported`);
      return samples.get(name)!;
    };
    assert.equal(v('etcd_server_has_leader'), 1);
    assert.equal(v('etcd_server_is_leader'), 1);
    assert.equal(v('etcd_server_leader_changes_seen_total'), 1);
    assert.ok(v('etcd_server_proposals_committed_total') >= 5);
    assert.ok(v('etcd_server_proposals_applied_total') >= 5);
    assert.equal(v('etcd_server_proposals_pending'), 0);
    assert.equal(v('etcd_debugging_mvcc_keys_total'), 5);
    assert.equal(v('etcd_debugging_mvcc_current_revision'), 6);
    assert.ok(v('etcd_mvcc_db_total_size_in_bytes') > 0);
    assert.ok(v('etcd_mvcc_db_total_size_in_use_in_bytes') > 0);
    assert.equal(v('etcd_server_quota_backend_bytes'), 2 * 1024 ** 3);
    assert.equal(v('etcd_server_version{server_version="3.5.0"}'), 1);
    assert.ok(v('etcd_server_health_success') >= 1);
    assert.ok(v('etcd_disk_wal_fsync_duration_seconds_count') >= 5, 'every put was fsynced');
    assert.equal(v('etcd_disk_wal_fsync_duration_seconds_bucket{le="+Inf"}'), v('etcd_disk_wal_fsync_duration_seconds_count'));
    // LMDB commits in the background, every 100 ms at most (the write buffer): the puts are
    // in at least one commit by now or very soon.
    let commits = v('etcd_disk_backend_commit_duration_seconds_count');
    for (let i = 0; i < 20 && commits < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      commits = parse((await request(coracle.clientPort, 'GET', '/metrics')).body).samples.get('etcd_disk_backend_commit_duration_seconds_count') ?? 0;
    }
    assert.ok(commits >= 1, 'no backend commit observed');
    assert.equal(types.get('etcd_disk_backend_commit_duration_seconds'), 'histogram');
    assert.equal(v('grpc_server_handled_total{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Put",grpc_code="OK"}'), 5);
    assert.equal(v('grpc_server_handled_total{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Range",grpc_code="OutOfRange"}'), 1);
    assert.ok(v('process_resident_memory_bytes') > 1e6);
    assert.ok(v('process_cpu_seconds_total') > 0);
    assert.ok(Math.abs(v('process_start_time_seconds') - Date.now() / 1000) < 600);

    const head = await request(coracle.clientPort, 'HEAD', '/metrics');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const post = await request(coracle.clientPort, 'POST', '/metrics');
    assert.equal(post.status, 405);
  } finally {
    await coracle.stop();
  }
});

test('every etcd-named family coracle exports exists in etcd 3.4 with the same type', async (t) => {
  const skip = requirePeer('etcd');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd();
  const coracle = await startCoracle(['--zk-listen', '']);
  try {
    await etcdctl(etcd.endpoints, ['put', 'a', 'b']);
    await etcdctl([coracle.endpoint], ['put', 'a', 'b']);
    const port = Number(new URL(etcd.endpoints[0]!).port);
    const theirs = parse((await request(port, 'GET', '/metrics')).body).types;
    const ours = etcdFamilies(parse((await request(coracle.clientPort, 'GET', '/metrics')).body));
    assert.ok(ours.size >= 20, `coracle exports etcd's families (${ours.size})`);
    for (const [name, type] of ours) assert.equal(theirs.get(name), type, `${name}: etcd 3.4 has it as a ${type}`);
  } finally {
    await coracle.stop();
    await etcd.stop();
  }
});
