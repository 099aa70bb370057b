/**
 * Differential test of the HTTP/JSON gateway: the same POSTs (curl-style, node http over
 * HTTP/1.1) against a real etcd 3.4 and the real `coracle` binary; the HTTP status and the
 * JSON answers must agree once what legitimately differs between two servers is masked (ids,
 * raft term and index, versions and db sizes). Covers KV (including errors and an unknown
 * field, which grpc-gateway ignores), lease, maintenance status/alarm, member list, 404/405,
 * and the watch stream's newline-delimited `{"result":…}` objects (etcd.md §4.5).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { requirePeer } from '../support/peers';
import { startEtcd } from '../support/etcd-peer';
import { startCoracle } from '../support/coracle-server';

/** One POST; resolves with the status and the body (bounded by a timeout). */
function post(port: number, path: string, body: string, method = 'POST'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // An explicit length: node sends a GET's body unframed otherwise, which breaks keep-alive.
    const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    const req = http.request({ host: '127.0.0.1', port, method, path, timeout: 10_000, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: timeout`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Reads a streaming answer line by line until `lines` lines arrived or `timeoutMs` passed, then
 * closes the connection (which cancels the stream on the server).
 */
function streamLines(port: number, path: string, body: string, lines: number, timeoutMs: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const got: unknown[] = [];
    let buffered = '';
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buffered += c;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) !== -1) {
          got.push(JSON.parse(buffered.slice(0, nl)));
          buffered = buffered.slice(nl + 1);
        }
        if (got.length >= lines) finish();
      });
    });
    const timer = setTimeout(() => finish(), timeoutMs);
    const finish = (): void => {
      clearTimeout(timer);
      req.destroy();
      resolve(got);
    };
    req.on('error', (err) => (got.length >= lines ? undefined : reject(err)));
    req.end(body);
  });
}

/** Keys whose values legitimately differ between etcd and coracle, and why. */
const MASKED = new Set([
  'cluster_id', 'member_id', 'ID', 'leader', // ids derive from URLs, tokens and time
  'raft_term', 'raftTerm', 'raftIndex', 'raftAppliedIndex', // etcd's log also holds conf changes and member publishes
  'version', // 3.4.23 vs the 3.5.0 Coracle claims
  'dbSize', 'dbSizeInUse', // bbolt vs LMDB files
  'name', 'peerURLs', 'clientURLs', // the test harnesses name and place the members differently
]);

/** The JSON with every masked key's value replaced by "X" (recursively). */
function mask(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(mask);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, MASKED.has(k) ? 'X' : mask(x)]));
}

/** The JSON without the keys in `drop` (recursively). */
function without(v: unknown, drop: readonly string[]): unknown {
  if (Array.isArray(v)) return v.map((x) => without(x, drop));
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !drop.includes(k)).map(([k, x]) => [k, without(x, drop)]));
}

function parseBody(body: string, drop: readonly string[] = []): unknown {
  try {
    return without(mask(JSON.parse(body)), drop);
  } catch {
    return body; // plain-text answers (404, 405)
  }
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** The script: path and body; each step's answer must match. */
const SCRIPT: Array<{ path: string; body: string; method?: string; drop?: string[] }> = [
  { path: '/v3/kv/put', body: JSON.stringify({ key: b64('foo'), value: b64('bar') }) },
  { path: '/v3/kv/put', body: JSON.stringify({ key: b64('foo'), value: b64('baz'), prev_kv: true }) },
  { path: '/v3/kv/put', body: JSON.stringify({ key: b64('fop'), value: b64('1'), unknownField: 7 }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo') }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('fo'), range_end: b64('fp'), limit: 1 }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('fo'), rangeEnd: b64('fp'), countOnly: true }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), revision: '99' }) },
  { path: '/v3/kv/range', body: '' },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo') }), method: 'GET' },
  { path: '/v3/kv/nosuchthing', body: '{}' },
  {
    path: '/v3/kv/txn',
    body: JSON.stringify({
      compare: [{ key: b64('foo'), target: 'VALUE', result: 'EQUAL', value: b64('baz') }],
      success: [{ request_put: { key: b64('foo'), value: b64('qux') } }, { request_range: { key: b64('foo') } }],
      failure: [{ request_delete_range: { key: b64('foo') } }],
    }),
  },
  { path: '/v3/kv/deleterange', body: JSON.stringify({ key: b64('fop'), prev_kv: true }) },
  { path: '/v3/kv/compaction', body: JSON.stringify({ revision: '3', physical: true }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('foo'), revision: 2 }) },
  { path: '/v3/kv/compaction', body: JSON.stringify({ revision: '2' }) },
  { path: '/v3/lease/grant', body: JSON.stringify({ TTL: 600, ID: '4660' }) },
  { path: '/v3/kv/put', body: JSON.stringify({ key: b64('leased'), value: b64('v'), lease: '4660' }) },
  { path: '/v3/lease/timetolive', body: JSON.stringify({ ID: '4660', keys: true }) },
  { path: '/v3/kv/lease/timetolive', body: JSON.stringify({ ID: '4660' }) },
  { path: '/v3/lease/leases', body: '{}' },
  { path: '/v3/kv/lease/revoke', body: JSON.stringify({ ID: '4660' }) },
  { path: '/v3/lease/revoke', body: JSON.stringify({ ID: '4660' }) },
  { path: '/v3/kv/range', body: JSON.stringify({ key: b64('leased') }) },
  { path: '/v3/maintenance/status', body: '{}' },
  { path: '/v3/maintenance/alarm', body: '{}' },
  // etcd 3.4 sends MemberList's header without a revision; Coracle's Cluster service fills it
  // (a known difference of that service, not of the gateway). The coracle harness passes no
  // --advertise-client-urls, so its member may list none. Compared without both.
  { path: '/v3/cluster/member/list', body: '{}', drop: ['revision', 'clientURLs'] },
];

test('the JSON gateway answers as etcd 3.4 does', async (t) => {
  const skip = requirePeer('etcd');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd();
  const coracle = await startCoracle(['--zk-listen', '']);
  const etcdPort = Number(new URL(etcd.endpoints[0]!).port);
  try {
    for (const step of SCRIPT) {
      const name = `${step.method ?? 'POST'} ${step.path} ${step.body}`;
      const want = await post(etcdPort, step.path, step.body, step.method).catch((err: Error) => assert.fail(`${name}: etcd: ${err.message}`));
      const got = await post(coracle.clientPort, step.path, step.body, step.method).catch((err: Error) => assert.fail(`${name}: coracle: ${err.message}`));
      assert.equal(got.status, want.status, `${name}: HTTP status (${got.body} vs ${want.body})`);
      assert.deepEqual(parseBody(got.body, step.drop), parseBody(want.body, step.drop), `${name}: body`);
    }
    // Watch from the revision of a past put (after the compaction above): created, then that
    // event from history; then a new put arrives on the open stream.
    const revisions: string[] = [];
    for (const port of [etcdPort, coracle.clientPort]) {
      const put = await post(port, '/v3/kv/put', JSON.stringify({ key: b64('w'), value: b64('1') }));
      revisions.push((JSON.parse(put.body) as { header: { revision: string } }).header.revision);
    }
    assert.equal(revisions[1], revisions[0], 'both stores are at the same revision');
    const watch = JSON.stringify({ create_request: { key: b64('w'), start_revision: revisions[0] } });
    const streams = [etcdPort, coracle.clientPort].map((port) => streamLines(port, '/v3/watch', watch, 3, 5000));
    await new Promise((r) => setTimeout(r, 500));
    for (const port of [etcdPort, coracle.clientPort]) await post(port, '/v3/kv/put', JSON.stringify({ key: b64('w'), value: b64('2') }));
    const [want, got] = await Promise.all(streams);
    assert.equal(want!.length, 3, 'etcd: created + two events');
    assert.deepEqual(mask(got), mask(want), 'watch stream lines');
  } finally {
    await coracle.stop();
    await etcd.stop();
  }
});

test('gateway error shapes: JSON syntax, bad base64, over-large bodies', async () => {
  const coracle = await startCoracle(['--zk-listen', '']);
  try {
    const bad = await post(coracle.clientPort, '/v3/kv/range', 'not json');
    assert.equal(bad.status, 400);
    const body = JSON.parse(bad.body) as { error: string; message: string; code: number };
    assert.equal(body.code, 3);
    assert.equal(body.error, body.message);
    const b64bad = await post(coracle.clientPort, '/v3/kv/put', JSON.stringify({ key: '!!!', value: '' }));
    assert.equal(b64bad.status, 400);
    // Over --max-request-bytes (1.5 MiB) but under the gRPC receive limit (2 MiB): etcd's text.
    const huge = await post(coracle.clientPort, '/v3/kv/put', JSON.stringify({ key: b64('k'), value: Buffer.alloc(1.6 * 1024 * 1024).toString('base64') }));
    assert.equal(huge.status, 400);
    assert.deepEqual(JSON.parse(huge.body), { error: 'etcdserver: request is too large', message: 'etcdserver: request is too large', code: 3 });
    // The beta prefix of 3.4 works too.
    const beta = await post(coracle.clientPort, '/v3beta/kv/range', JSON.stringify({ key: b64('k') }));
    assert.equal(beta.status, 200);
  } finally {
    await coracle.stop();
  }
});
