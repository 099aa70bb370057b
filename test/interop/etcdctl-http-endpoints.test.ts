/**
 * etcdctl 3.4 with URL-form endpoints (`--endpoints=http://127.0.0.1:P`, as etcd's docs write
 * them) against the real `coracle` binary and a real etcd 3.4: every command must succeed on
 * coracle and print what etcd prints, ids, sizes, versions, hashes and terms masked.
 *
 * Why this needs its own test: for per-endpoint Maintenance calls (endpoint status/hashkv,
 * defrag, snapshot, alarm, move-leader) etcdctl dials `passthrough:///http://127.0.0.1:P`, so
 * grpc-go sends `:authority: http://127.0.0.1:P`, which node:http2 alone resets with
 * PROTOCOL_ERROR (core/server/grpc/h2-authority-filter.ts). The same port must keep serving
 * grpc-js, the etcd3 npm client and HTTP/1.1 `/health`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { mkdirSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import * as pb from '../../protocol/etcd/generated/rpc';
import { requirePeer } from '../support/peers';
import { startEtcd } from '../support/etcd-peer';
import { etcdctl } from '../support/etcdctl';
import { httpGet, startCoracle } from '../support/coracle-server';
import type { CommandResult } from '../support/run-command';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { dial, unary } from './etcd-watch-harness';

/** A rewrite applied to both outputs of one step before they are compared. */
type Mask = [RegExp, string];

interface Step {
  args: string[];
  masks?: Mask[];
}

/** A member id as etcdctl prints it (%x of 64 bits); at least one letter keeps decimals out. */
const HEX_ID: Mask = [/\b(?=[0-9]*[a-f])[0-9a-f]{12,16}\b/g, 'HEXID'];

/**
 * `endpoint status`: ids, version (etcd 3.4.23 vs Coracle's 3.5.0), db sizes (bbolt vs LMDB)
 * and the raft term/index/applied index differ legitimately (see etcdctl-diff.test.ts). Kept:
 * the endpoint as printed, IS LEADER, IS LEARNER, the header revision, ERRORS.
 */
const STATUS_MASKS: Mask[] = [
  [/"(version|leader|dbSize|dbSizeInUse|raftIndex|raftTerm|raftAppliedIndex)":("[^"]*"|\d+)/g, '"$1":X'],
  HEX_ID,
  [/^(http:\/\/EP), HEXID, [^,]+, [^,]+, (true|false), (true|false), \d+, \d+, \d+, /gm, '$1, ID, V, SIZE, $2, $3, T, I, A, '],
  [/^\|http:\/\/EP\|HEXID\|[^|]*\|[^|]*\|(true|false)\|(true|false)\|\d+\|\d+\|\d+\|/gm, '|http://EP|ID|V|SIZE|$1|$2|T|I|A|'],
];

const SCRIPT: Step[] = [
  { args: ['put', 'foo', 'bar'] },
  { args: ['get', 'foo'] },
  { args: ['get', 'foo', '-w', 'json'] },
  { args: ['endpoint', 'status'], masks: STATUS_MASKS },
  { args: ['endpoint', 'status', '-w', 'json'], masks: STATUS_MASKS },
  { args: ['endpoint', 'status', '-w', 'table'], masks: STATUS_MASKS },
  { args: ['endpoint', 'health'], masks: [[/took = \S+/g, 'took = T']] },
  { args: ['endpoint', 'hashkv'], masks: [[/^(http:\/\/EP), \d+$/gm, '$1, H']] },
  { args: ['endpoint', 'hashkv', '-w', 'json'], masks: [[/"hash":\d+/g, '"hash":H']] },
  { args: ['alarm', 'list'] },
  { args: ['alarm', 'disarm'] },
  { args: ['defrag'] },
  { args: ['snapshot', 'save', '{snapdir}/snap.db'], masks: [[/at \S+\/snap\.db/g, 'at DIR/snap.db']] },
  { args: ['move-leader', '1234'] },
  { args: ['put', 'after', 'maintenance', '-w', 'json'] },
];

/** Masks ids, term, the port, client log lines, table padding; then the step's masks. */
function normalize(s: string, masks: readonly Mask[] = []): string {
  let out = s
    .replace(/"(cluster_id|member_id|raft_term)":"?\d+"?/g, '"$1":X')
    .replace(/^\{"level".*$/gm, '')
    .replace(/127\.0\.0\.1:\d+/g, 'EP')
    .replace(/^\+[-+]+\+$/gm, '+')
    .replace(/^\|.*\|$/gm, (row) => row.split('|').map((cell) => cell.trim()).join('|'));
  for (const [pattern, replacement] of masks) out = out.replace(pattern, replacement);
  return out.replace(/\s+$/g, '');
}

test('etcdctl 3.4 with --endpoints=http://… prints the same against coracle as against etcd 3.4', async (t) => {
  const skip = requirePeer('etcd', 'etcdctl');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd();
  const coracle = await startCoracle(['--zk-listen', '']);
  const scratch = createTempDir('etcdctl-http-');
  const servers = [
    { name: 'etcd', endpoint: etcd.endpoints[0]!, snapdir: path.join(scratch, 'etcd') },
    { name: 'coracle', endpoint: `http://${coracle.endpoint}`, snapdir: path.join(scratch, 'coracle') },
  ];
  for (const s of servers) {
    assert.match(s.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    mkdirSync(s.snapdir);
  }
  try {
    for (const step of SCRIPT) {
      const name = `etcdctl ${step.args.join(' ')}`;
      const results: CommandResult[] = [];
      for (const s of servers) {
        const args = step.args.map((a) => a.replace('{snapdir}', s.snapdir));
        results.push(await etcdctl([s.endpoint], args));
      }
      const [w, g] = results as [CommandResult, CommandResult];
      if (!step.args.includes('move-leader')) {
        assert.equal(w.code, 0, `${name} on etcd: ${w.stderr}`);
        assert.equal(g.code, 0, `${name} on coracle: ${g.stderr}`);
      }
      assert.doesNotMatch(g.stderr, /RST_STREAM|PROTOCOL_ERROR/, `${name} on coracle`);
      assert.equal(g.code, w.code, `${name}: exit code (stderr: ${g.stderr})`);
      assert.equal(normalize(g.stdout, step.masks), normalize(w.stdout, step.masks), `${name}: stdout`);
      assert.equal(normalize(g.stderr, step.masks), normalize(w.stderr, step.masks), `${name}: stderr`);
    }

    // The same port still serves grpc-js (host:port target), the etcd3 client and HTTP/1.1.
    const grpcClient = dial(coracle.endpoint);
    try {
      const put = await unary(grpcClient, '/etcdserverpb.KV/Put', pb.PutRequest, pb.PutResponse, { key: Buffer.from('gj'), value: Buffer.from('1') });
      assert.ok(put.ok, put.ok ? '' : put.details);
      const range = await unary(grpcClient, '/etcdserverpb.KV/Range', pb.RangeRequest, pb.RangeResponse, { key: Buffer.from('gj') });
      assert.ok(range.ok);
      assert.equal(Buffer.from(range.response.kvs[0]!.value).toString(), '1');
    } finally {
      grpcClient.close();
    }
    const etcd3 = new Etcd3({ hosts: `http://${coracle.endpoint}`, dialTimeout: 3000 });
    try {
      await etcd3.put('e3').value('2');
      assert.equal(await etcd3.get('e3').string(), '2');
    } finally {
      etcd3.close();
    }
    const health = await httpGet(coracle.clientPort, '/health');
    assert.deepEqual(JSON.parse(health!.body), { health: 'true', reason: '' });
  } finally {
    await coracle.stop();
    await etcd.stop();
    removeTempDir(scratch);
  }
});
