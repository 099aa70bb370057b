/**
 * Differential test: one etcdctl 3.4 script, run against a real etcd 3.4 and against the real
 * `coracle` binary. Every command's stdout, exit code and error text must match, with member and
 * cluster ids and the raft term masked (etcd.md §1.4, §2.1–2.5, §2.10: revisions, range options,
 * txn, compaction and the exact error texts). Both stores start fresh, so revisions must agree.
 *
 * The second half covers the operator commands (endpoint status/health/hashkv, member list,
 * alarm list, defrag, snapshot save; etcd.md §2.9) and the lease, watch, lock and elect commands.
 * Those print values that legitimately differ between two servers; each step masks exactly
 * those (see {@link STATUS_MASKS} and the step comments) and keeps everything else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { mkdirSync } from 'node:fs';
import { requirePeer } from '../support/peers';
import { startEtcd } from '../support/etcd-peer';
import { etcdctl } from '../support/etcdctl';
import { CORACLE_BIN, httpGet, startCoracle } from '../support/coracle-server';
import { runCommand, type CommandResult } from '../support/run-command';
import { createTempDir, removeTempDir } from '../support/temp-dir';

/** A rewrite applied to both outputs of one step before they are compared. */
type Mask = [RegExp, string];

/** One etcdctl invocation of the script. */
interface Step {
  args: string[];
  input?: string;
  /** Rewrites for values that legitimately differ in this step's output (stdout and stderr). */
  masks?: Mask[];
  /** Stores capture group 1 of stdout under this name; `{name}` in later args is replaced per server. */
  capture?: { name: string; pattern: RegExp };
  /** For commands that run until stopped (watch, elect): killed after this long, output kept. */
  runForMs?: number;
}

/**
 * A member or lease id as etcdctl prints it: %x of a 64-bit value, so without leading zeros
 * (one id in sixteen has 15 digits or fewer); at least one letter keeps decimals out.
 */
const HEX_ID: Mask = [/\b(?=[0-9]*[a-f])[0-9a-f]{12,16}\b/g, 'HEXID'];

/**
 * What differs legitimately in `endpoint status` (all output formats):
 * - member id, cluster id, leader: derived from URLs, tokens and (etcd) start time;
 * - version: etcd says 3.4.23, Coracle claims 3.5.0 (as its /version does);
 * - db size / size in use: a bbolt file vs an LMDB file;
 * - raft term, raft index, raft applied index: etcd's log also holds the bootstrap conf change
 *   and member-attribute entries, and its first election (pre-vote off) lands on another term.
 * Kept: the endpoint, IS LEADER, IS LEARNER, the header revision, ERRORS (alarms, no leader).
 */
const STATUS_MASKS: Mask[] = [
  [/"(version|leader|dbSize|dbSizeInUse|raftIndex|raftTerm|raftAppliedIndex)":("[^"]*"|\d+)/g, '"$1":X'],
  HEX_ID,
  // simple format: endpoint, id, version, size, leader?, learner?, term, index, applied, errors
  [/^(EP), HEXID, [^,]+, [^,]+, (true|false), (true|false), \d+, \d+, \d+, /gm, '$1, ID, V, SIZE, $2, $3, T, I, A, '],
  // table format, after cells are trimmed: same columns
  [/^\|EP\|HEXID\|[^|]*\|[^|]*\|(true|false)\|(true|false)\|\d+\|\d+\|\d+\|/gm, '|EP|ID|V|SIZE|$1|$2|T|I|A|'],
];

/** The script: each entry is one etcdctl invocation (plus stdin for txn). */
const SCRIPT: Step[] = [
  { args: ['put', 'foo', 'bar'] },
  { args: ['put', 'foo', 'baz', '--prev-kv'] },
  { args: ['put', 'fop', '1'] },
  { args: ['put', 'fo', '2'] },
  { args: ['put', 'zzz', '3'] },
  { args: ['get', 'foo'] },
  { args: ['get', 'foo', '-w', 'json'] },
  { args: ['get', 'fo', '--prefix'] },
  { args: ['get', 'fo', '--prefix', '--limit', '2', '-w', 'json'] },
  { args: ['get', 'fop', '--from-key', '--keys-only'] },
  { args: ['get', 'f', '--prefix', '--sort-by', 'VALUE', '--order', 'DESCEND'] },
  { args: ['get', 'f', '--prefix', '--sort-by', 'CREATE', '--order', 'ASCEND', '-w', 'json'] },
  { args: ['get', 'foo', '--rev', '2'] },
  { args: ['get', 'foo', '--rev', '99'] },
  { args: ['get', '', '--prefix', '--keys-only'] },
  { args: ['get', 'missing', '-w', 'json'] },
  { args: ['del', 'nothing-here'] },
  { args: ['del', 'fo', '--prev-kv'] },
  { args: ['del', 'fo', '--prefix'] },
  { args: ['txn', '-w', 'json'], input: 'value("zzz") = "3"\n\nput zzz 4\nget zzz\n\nput zzz never\n\n' },
  { args: ['txn'], input: 'create("nope") > "0"\n\nput a b\n\ndel zzz\n\n' },
  { args: ['get', 'zzz', '-w', 'json'] },
  { args: ['put', 'k', 'v', '--ignore-value'] },
  { args: ['put', 'k', 'v', '--lease', '1234'] },
  { args: ['compaction', '5'] },
  { args: ['get', 'foo', '--rev', '4'] },
  { args: ['get', 'foo', '--rev', '5'] },
  { args: ['compaction', '3'] },
  { args: ['compaction', '999'] },
  ...operatorSteps(),
  ...leaseWatchLockSteps(),
];

/** Operator commands. Run after the KV script, so revisions (kept unmasked) must agree too. */
function operatorSteps(): Step[] {
  return [
    { args: ['endpoint', 'status', '-w', 'json'], masks: STATUS_MASKS },
    { args: ['endpoint', 'status'], masks: STATUS_MASKS },
    { args: ['endpoint', 'status', '-w', 'table'], masks: STATUS_MASKS },
    // Prints to stderr with the time the probe took.
    { args: ['endpoint', 'health'], masks: [[/took = \S+/g, 'took = T']] },
    { args: ['endpoint', 'health', '-w', 'json'], masks: [[/"took":"[^"]*"/g, '"took":T']] },
    // HashKV only has to agree between members of one implementation (etcd.md §2.9): the hash
    // is masked; the revision, the compact revision and the errors are kept.
    { args: ['endpoint', 'hashkv', '-w', 'json'], masks: [[/"hash":\d+/g, '"hash":H']] },
    { args: ['endpoint', 'hashkv'], masks: [[/^(EP), \d+$/gm, '$1, H']] },
    { args: ['endpoint', 'hashkv', '--rev', '4'] },
    { args: ['endpoint', 'hashkv', '--rev', '999'] },
    { args: ['alarm', 'list'] },
    { args: ['alarm', 'list', '-w', 'json'] },
    { args: ['alarm', 'disarm'] },
    { args: ['defrag'] },
    // The file holds LMDB instead of bbolt (so `snapshot status` is not comparable); what a user
    // sees of `save` is the same: exit 0 and "Snapshot saved at <path>".
    { args: ['snapshot', 'save', '{snapdir}/snap.db'], masks: [[/at \S+\/snap\.db/g, 'at DIR/snap.db']] },
    { args: ['move-leader', '1234'] },
    // Member names, URLs and ids come from each harness's flags; the list's shape (one started
    // voter) and the header are kept. etcd 3.4 leaves the revision out of MemberList's header.
    {
      args: ['member', 'list', '-w', 'json'],
      masks: [
        [/"(ID|name)":("[^"]*"|\d+)/g, '"$1":X'],
        [/"(peerURLs|clientURLs)":\[[^\]]*\]/g, '"$1":X'],
        [/,"revision":\d+/g, ''],
      ],
    },
    { args: ['member', 'list'], masks: [HEX_ID, [/^HEXID, started, [^,]+, [^,]+, [^,]*, false$/gm, 'ID, started, NAME, PEERS, CLIENTS, false']] },
  ];
}

/** Leases (ids are random per server: captured and masked), watch, lock, elect. */
function leaseWatchLockSteps(): Step[] {
  const ttl: Mask = [/remaining\(\d+s\)/g, 'remaining(Ns)'];
  return [
    { args: ['lease', 'grant', '600'], capture: { name: 'lease', pattern: /^lease ([0-9a-f]+) granted/ }, masks: [HEX_ID] },
    { args: ['put', 'lk', 'lv', '--lease={lease}'] },
    { args: ['get', 'lk', '-w', 'json'], masks: [[/"lease":\d+/g, '"lease":L']] },
    { args: ['lease', 'timetolive', '{lease}', '--keys'], masks: [HEX_ID, ttl] },
    { args: ['lease', 'timetolive', '{lease}', '-w', 'json'], masks: [[/"(id|ttl)":\d+/g, '"$1":X']] },
    { args: ['lease', 'keep-alive', '--once', '{lease}'], masks: [HEX_ID] },
    { args: ['lease', 'list'], masks: [HEX_ID] },
    { args: ['lease', 'revoke', '{lease}'], masks: [HEX_ID] },
    { args: ['get', 'lk'] },
    { args: ['lease', 'timetolive', '{lease}'], masks: [HEX_ID] },
    { args: ['lease', 'revoke', '{lease}'], masks: [HEX_ID] },
    // Watch replays history from a revision, then waits: bounded, killed, output compared.
    { args: ['watch', '--prefix', 'f', '--rev', '6'], runForMs: 2500 },
    // Below the compaction: the watch is cancelled with etcd's reason.
    { args: ['watch', 'foo', '--rev', '2'], runForMs: 2500 },
    { args: ['watch', '--prefix', 'lk', '--rev', '1', '--prev-kv'], runForMs: 2500 },
    // lock runs the command while holding the lock, then releases it (lease revoked).
    { args: ['lock', 'mylock', 'echo', 'locked'] },
    { args: ['get', 'mylock', '--prefix', '--keys-only'] },
    { args: ['put', 'after-lock', '1', '-w', 'json'] },
    // elect campaigns, prints the leader key and the proposal, and holds until killed.
    { args: ['elect', 'myelection', 'p1'], runForMs: 2500, masks: [[/^myelection\/[0-9a-f]+$/gm, 'myelection/LEASE']] },
  ];
}

/**
 * Masks what legitimately differs between two servers in every step: ids, term, the endpoint's
 * port, and the client's log lines; table borders and cell padding (their widths follow the
 * masked values); then the step's own masks.
 */
function normalize(s: string, masks: readonly Mask[] = []): string {
  let out = s
    .replace(/"(cluster_id|member_id|raft_term)":"?\d+"?/g, '"$1":X')
    .replace(/^\{"level".*$/gm, '')
    .replace(/(http:\/\/)?127\.0\.0\.1:\d+/g, 'EP')
    .replace(/^\+[-+]+\+$/gm, '+')
    .replace(/^\|.*\|$/gm, (row) => row.split('|').map((cell) => cell.trim()).join('|'));
  for (const [pattern, replacement] of masks) out = out.replace(pattern, replacement);
  return out.replace(/\s+$/g, '');
}

/** `{name}` placeholders of a step's args, filled from one server's captures. */
function fill(args: readonly string[], vars: ReadonlyMap<string, string>): string[] {
  return args.map((a) => a.replace(/\{(\w+)\}/g, (whole, name: string) => vars.get(name) ?? whole));
}

test('etcdctl 3.4 prints the same against coracle as against etcd 3.4', async (t) => {
  const skip = requirePeer('etcd', 'etcdctl');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd();
  // etcd mode only: with the ZooKeeper front end on, its system znodes (/zookeeper, …) are
  // written at start and take revisions, so the etcd revisions would start two higher.
  const coracle = await startCoracle(['--zk-listen', '']);
  const scratch = createTempDir('etcdctl-diff-');
  // Per server: its endpoint in the same host:port form for both (etcdctl echoes it in its
  // output; the URL form is covered by etcdctl-http-endpoints.test.ts), and the values
  // captured from its output.
  const servers = [
    { endpoint: etcd.endpoints[0]!.replace(/^http:\/\//, ''), vars: new Map([['snapdir', path.join(scratch, 'etcd')]]) },
    { endpoint: coracle.endpoint, vars: new Map([['snapdir', path.join(scratch, 'coracle')]]) },
  ];
  for (const s of servers) mkdirSync(s.vars.get('snapdir')!);
  try {
    for (const step of SCRIPT) {
      const name = `etcdctl ${step.args.join(' ')}`;
      const results: CommandResult[] = [];
      for (const s of servers) {
        const opts = { input: step.input, ...(step.runForMs !== undefined ? { timeoutMs: step.runForMs } : {}) };
        const r = await etcdctl([s.endpoint], fill(step.args, s.vars), opts);
        if (step.capture) {
          const m = step.capture.pattern.exec(r.stdout);
          assert.ok(m, `${name}: ${step.capture.pattern} in ${JSON.stringify(r.stdout)}`);
          s.vars.set(step.capture.name, m[1]!);
        }
        results.push(r);
      }
      const [w, g] = results as [CommandResult, CommandResult];
      // A bounded command must have printed something on etcd, or the comparison proves nothing.
      if (step.runForMs !== undefined) assert.notEqual((w.stdout + w.stderr).trim(), '', `${name}: etcd printed nothing in ${step.runForMs} ms`);
      assert.equal(g.code, w.code, `${name}: exit code (stderr: ${g.stderr})`);
      assert.equal(normalize(g.stdout, step.masks), normalize(w.stdout, step.masks), `${name}: stdout`);
      assert.equal(normalize(g.stderr, step.masks), normalize(w.stderr, step.masks), `${name}: stderr`);
    }
  } finally {
    await coracle.stop();
    await etcd.stop();
    removeTempDir(scratch);
  }
});

test('coracle: /health, /version, and a bad flag exits 2 with a message', async () => {
  const coracle = await startCoracle();
  try {
    const health = await httpGet(coracle.clientPort, '/health');
    assert.deepEqual(JSON.parse(health!.body), { health: 'true', reason: '' });
    const version = await httpGet(coracle.clientPort, '/version');
    assert.match(JSON.parse(version!.body).etcdserver, /^3\.5\./);
  } finally {
    assert.equal(await coracle.stop(), 0, 'SIGTERM is a clean shutdown');
  }
  const bad = await runCommand(process.execPath, [CORACLE_BIN, '--no-such-flag'], { timeoutMs: 10_000 });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown flag --no-such-flag/);
});
