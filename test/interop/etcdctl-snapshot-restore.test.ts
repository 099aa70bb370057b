/**
 * Backup and restore as an operator does it, with real processes on 127.0.0.1: `etcdctl
 * snapshot save` (etcd 3.4's client) against a running coracle, then `coracle snapshot status`
 * and `coracle snapshot restore`, then `coracle` on the restored data dir(s).
 *
 * (a) one member: every key and value, the revision, a historical `--rev` read, a lease and its
 *     key come back; `endpoint hashkv` equals the status hash; writes continue at revision + 1.
 * (b) three members restored from the one file form a new cluster (new ids in `member list`)
 *     serving the same data, revision and `endpoint hashkv` on every member.
 * (c) a truncated or corrupted file, and an existing data dir, are refused with clear errors and
 *     nothing is left behind.
 * (d) with etcd 3.4 installed: `snapshot status` prints the same fields and layout as etcdctl's
 *     on an etcd snapshot, and an etcd snapshot given to coracle is named as such.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requirePeer } from '../support/peers';
import { etcdctl, etcdctlJson } from '../support/etcdctl';
import { pollUntil } from '../support/poll';
import { runCommand, type CommandResult } from '../support/run-command';
import { createTempDir, removeTempDir } from '../support/temp-dir';
import { CORACLE_BIN, startCoracle, type CoracleServer } from '../support/coracle-server';
import { ClusterMember, CoracleCluster } from '../support/cluster';
import { startEtcd } from '../support/etcd-peer';

/** `coracle snapshot <args…>` to completion. */
function coracleSnapshot(args: string[]): Promise<CommandResult> {
  return runCommand(process.execPath, [CORACLE_BIN, 'snapshot', ...args], { timeoutMs: 30_000 });
}

/** `etcdctl snapshot save`, asserting success. */
async function save(endpoint: string, file: string): Promise<void> {
  const r = await etcdctl(endpoint, ['snapshot', 'save', file], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Snapshot saved at/);
}

interface Status { hash: number; revision: number; totalKey: number; totalSize: number }

async function statusJson(file: string): Promise<Status> {
  const r = await coracleSnapshot(['status', file, '-w', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Status;
}

/** Every live key → value (text), read from `endpoint`. */
async function allKeys(endpoint: string, serializable = false): Promise<Record<string, string>> {
  const args = ['get', '', '--prefix', ...(serializable ? ['--consistency=s'] : [])];
  const r = await etcdctlJson<{ kvs?: Array<{ key: string; value?: string }> }>(endpoint, args);
  const out: Record<string, string> = {};
  // etcdctl leaves an empty value out of its JSON (the ZooKeeper front end keeps some under /zk/).
  for (const kv of r.kvs ?? []) out[Buffer.from(kv.key, 'base64').toString()] = Buffer.from(kv.value ?? '', 'base64').toString('latin1');
  return out;
}

/** The header revision of a (serializable) read on `endpoint`. */
async function revisionOf(endpoint: string): Promise<number> {
  const r = await etcdctlJson<{ header: { revision: number | string } }>(endpoint, ['get', 'k1', '--consistency=s']);
  return Number(r.header.revision);
}

/** `endpoint hashkv` of each endpoint (decimal hash). */
async function hashKvs(endpoints: string[]): Promise<number[]> {
  const r = await etcdctlJson<Array<{ HashKV: { hash: number } }>>(endpoints, ['endpoint', 'hashkv']);
  return r.map((e) => e.HashKV.hash);
}

/** Names of what `dir` holds (to show that a refused restore left nothing behind). */
function listing(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

/** What the source member holds when the snapshot is taken. */
interface Saved { file: string; keys: Record<string, string>; revision: number; firstK1Rev: number; lease: string; status: Status }

/** Puts keys over several revisions, a lease with a key, a delete; saves a snapshot. */
async function populateAndSave(src: CoracleServer, file: string): Promise<Omit<Saved, 'status'>> {
  const ep = src.endpoint;
  const put = async (k: string, v: string, ...extra: string[]) => {
    const r = await etcdctl(ep, ['put', k, v, ...extra]);
    assert.equal(r.code, 0, r.stderr);
  };
  await put('k1', 'v1');
  const firstK1Rev = await revisionOf(ep);
  await put('k2', 'v2');
  await put('dir/a', 'A');
  await put('k1', 'v1-second');
  await put('dir/b', 'B');
  const grant = await etcdctl(ep, ['lease', 'grant', '900']);
  assert.equal(grant.code, 0, grant.stderr);
  const lease = /lease ([0-9a-f]+) granted/.exec(grant.stdout)![1]!;
  await put('leased', 'L', `--lease=${lease}`);
  assert.equal((await etcdctl(ep, ['del', 'k2'])).code, 0);
  const keys = await allKeys(ep);
  const own = Object.fromEntries(Object.entries(keys).filter(([k]) => !k.startsWith('/zk/')));
  assert.deepEqual(own, { k1: 'v1-second', 'dir/a': 'A', 'dir/b': 'B', leased: 'L' });
  const revision = await revisionOf(ep);
  await save(ep, file);
  return { file, keys, revision, firstK1Rev, lease };
}

test('etcdctl snapshot save, coracle snapshot status and restore', { timeout: 280_000 }, async (t) => {
  const skip = requirePeer('etcdctl');
  if (skip) return t.skip(skip);
  const work = createTempDir('coracle-snapshot-restore-');
  let saved!: Saved;
  try {
    await t.test('a snapshot saved by etcdctl, checked by coracle snapshot status', async () => {
      const src = await startCoracle();
      try {
        const base = await populateAndSave(src, path.join(work, 'backup.db'));
        const [sourceHash] = await hashKvs([src.endpoint]);
        const json = await statusJson(base.file);
        assert.deepEqual(Object.keys(json), ['hash', 'revision', 'totalKey', 'totalSize']);
        assert.equal(json.revision, base.revision);
        // Our hash is the HashKV at the snapshot's revision.
        assert.equal(json.hash, sourceHash);
        assert.ok(json.totalKey > 0 && json.totalSize > 0 && json.totalSize <= fs.statSync(base.file).size);
        saved = { ...base, status: json };
      } finally {
        await src.stop();
      }
      const hex = saved.status.hash.toString(16);
      const simple = await coracleSnapshot(['status', saved.file]);
      assert.equal(simple.code, 0, simple.stderr);
      assert.match(simple.stdout, new RegExp(`^${hex}, ${saved.revision}, ${saved.status.totalKey}, \\d+(\\.\\d)? (B|kB|MB)\\n$`));
      const table = await coracleSnapshot(['status', '--write-out=table', saved.file]);
      assert.equal(table.code, 0, table.stderr);
      const lines = table.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 5);
      assert.deepEqual(cells(lines[1]!), ['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE']);
      assert.deepEqual(cells(lines[3]!).slice(0, 3), [hex, String(saved.revision), String(saved.status.totalKey)]);
      const fields = await coracleSnapshot(['status', saved.file, '-w=fields']);
      assert.equal(fields.stdout, `"Hash" : ${saved.status.hash}\n"Revision" : ${saved.revision}\n"Keys" : ${saved.status.totalKey}\n"Size" : ${saved.status.totalSize}\n`);
    });
    if (!saved) return;

    await t.test('(a) one member restored: keys, revision, history, lease; writes continue', async () => {
      const dir = path.join(work, 'single');
      const r = await coracleSnapshot(['restore', saved.file, '--data-dir', dir]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '', 'etcdctl restore prints only logs (stderr)');
      assert.deepEqual(listing(work).filter((n) => n.includes('.restore-')), [], 'no staging dir left');
      const srv = await startCoracle(['--data-dir', dir]);
      try {
        assert.deepEqual(await allKeys(srv.endpoint), saved.keys);
        const rev = await revisionOf(srv.endpoint);
        assert.ok(rev >= saved.revision, `revision ${rev} >= saved ${saved.revision}`);
        const old = await etcdctl(srv.endpoint, ['get', 'k1', `--rev=${saved.firstK1Rev}`, '--print-value-only']);
        assert.equal(old.code, 0, old.stderr);
        assert.equal(old.stdout.trim(), 'v1', 'the history before the snapshot is kept');
        const ttl = await etcdctl(srv.endpoint, ['lease', 'timetolive', saved.lease, '--keys']);
        assert.equal(ttl.code, 0, ttl.stderr);
        assert.match(ttl.stdout, new RegExp(`lease ${saved.lease} granted with TTL\\(900s\\), remaining\\(\\d+s\\), attached keys\\(\\[leased\\]\\)`));
        assert.deepEqual(await hashKvs([srv.endpoint]), [saved.status.hash], 'status hash = hashkv of the restored member');
        const put = await etcdctl(srv.endpoint, ['put', 'after', 'restore']);
        assert.equal(put.code, 0, put.stderr);
        assert.equal(await revisionOf(srv.endpoint), rev + 1);
        assert.equal((await allKeys(srv.endpoint)).after, 'restore');
      } finally {
        await srv.stop();
      }
    });

    await t.test('(b) three members restored from one snapshot form a new cluster', async () => {
      await restoreCluster(saved);
    });

    await t.test('(c) truncated or corrupt files and existing data dirs are refused', async () => {
      await refusals(saved, work);
    });
  } finally {
    removeTempDir(work);
  }
});

/** The cells of a table row `| a | b |`. */
function cells(line: string): string[] {
  return line.split('|').slice(1, -1).map((c) => c.trim());
}

async function restoreCluster(saved: Saved): Promise<void> {
  const token = 'restored-cluster';
  const c = await CoracleCluster.start({ size: 0, token });
  try {
    const ms: ClusterMember[] = [];
    for (let i = 0; i < 3; i++) ms.push(await c.allocate());
    c.members.push(...ms);
    const initial = ms.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    const ids = new Map<string, string>();
    for (const m of ms) {
      const r = await coracleSnapshot(['restore', saved.file, '--data-dir', m.dataDir, '--name', m.name,
        '--initial-cluster', initial, '--initial-cluster-token', token, '--initial-advertise-peer-urls', m.peerUrl]);
      assert.equal(r.code, 0, r.stderr);
      ids.set(m.name, /"member-id":"([0-9a-f]+)"/.exec(r.stderr)![1]!);
    }
    await Promise.all(ms.map((m) => c.launch(m, ['--initial-cluster', initial, '--initial-cluster-state', 'new'])));
    const eps = ms.map((m) => m.endpoint);
    const rows = await pollUntil('3 published members', async () => {
      const r = await etcdctl(eps[0]!, ['member', 'list']);
      const rs = r.code === 0 ? r.stdout.trim().split('\n').map((l) => l.split(', ')) : [];
      return rs.length === 3 && rs.every((x) => x[2] !== '' && x[4] !== '') ? rs : undefined;
    }, 30_000, 250);
    for (const m of ms) {
      const row = rows.find((x) => x[2] === m.name);
      assert.ok(row, `${m.name} listed`);
      assert.deepEqual(row, [ids.get(m.name), 'started', m.name, m.peerUrl, `http://${m.endpoint}`, 'false']);
    }
    for (const ep of eps) assert.deepEqual(await allKeys(ep, true), saved.keys, `data on ${ep}`);
    const revs = await Promise.all(eps.map(revisionOf));
    assert.ok(revs.every((r) => r === revs[0] && r >= saved.revision), `revisions ${revs.join(',')}`);
    const hashes = await hashKvs(eps);
    assert.deepEqual(hashes, [saved.status.hash, saved.status.hash, saved.status.hash]);
    const lease = await etcdctl(eps[2]!, ['lease', 'timetolive', saved.lease, '--keys']);
    assert.match(lease.stdout, /attached keys\(\[leased\]\)/);
    // A write through one member is read linearizably through another.
    assert.equal((await etcdctl(eps[0]!, ['put', 'cluster', 'ok'])).code, 0);
    const got = await etcdctl(eps[2]!, ['get', 'cluster', '--print-value-only']);
    assert.equal(got.stdout.trim(), 'ok');
    // Serializable reads: a follower may apply the write a moment later.
    await pollUntil('every member at the new revision', async () => {
      const again = await Promise.all(eps.map(revisionOf));
      return again.every((r) => r === revs[0]! + 1) ? again : undefined;
    }, 10_000, 200);
  } finally {
    await c.close();
  }
}

async function refusals(saved: Saved, work: string): Promise<void> {
  const dir = createTempDir('coracle-snapshot-refusals-');
  try {
    const bytes = fs.readFileSync(saved.file);
    const write = (name: string, b: Buffer) => {
      fs.writeFileSync(path.join(dir, name), b);
      return path.join(dir, name);
    };
    const cases: Array<{ name: string; file: string; want: RegExp }> = [
      // Cut mid-page: no trailer by etcd's size rule.
      { name: 'truncated', file: write('truncated.db', bytes.subarray(0, 10_000)), want: /snapshot missing hash.*truncated/s },
      // Cut by 512 bytes: the size still looks like a saved file, the trailer is wrong.
      { name: 'cut by 512', file: write('cut512.db', bytes.subarray(0, bytes.length - 512)), want: /integrity check failed.*corrupt or was cut short/s },
      { name: 'corrupt', file: write('corrupt.db', flipped(bytes, Math.floor(bytes.length / 2))), want: /integrity check failed.*expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/s },
      { name: 'empty', file: write('empty.db', Buffer.alloc(0)), want: /snapshot missing hash/ },
    ];
    for (const c of cases) {
      const st = await coracleSnapshot(['status', c.file]);
      assert.equal(st.code, 1, `${c.name}: status exit code`);
      assert.match(st.stderr, c.want, `${c.name}: status`);
      assert.match(st.stderr, /etcdctl snapshot save/, `${c.name}: status says what to do`);
      const target = path.join(dir, `restored-${c.name.replace(/ /g, '-')}`);
      const r = await coracleSnapshot(['restore', c.file, '--data-dir', target]);
      assert.equal(r.code, 1, `${c.name}: restore exit code`);
      assert.match(r.stderr, c.want, `${c.name}: restore`);
      assert.equal(fs.existsSync(target), false, `${c.name}: no data dir`);
      assert.deepEqual(listing(dir).filter((n) => n.includes('.restore-')), [], `${c.name}: no staging dir left`);
    }
    // Restore names etcd's flag for a file without a trailer.
    const noHash = await coracleSnapshot(['restore', cases[0]!.file, '--data-dir', path.join(dir, 'n1')]);
    assert.match(noHash.stderr, /snapshot missing hash but --skip-hash-check=false/);
    // A wrong trailer only: refused, accepted with --skip-hash-check (etcd's escape hatch).
    const badTrailer = write('trailer.db', flipped(bytes, bytes.length - 1));
    assert.equal((await coracleSnapshot(['restore', badTrailer, '--data-dir', path.join(dir, 't1')])).code, 1);
    const skipped = await coracleSnapshot(['restore', badTrailer, '--data-dir', path.join(dir, 't2'), '--skip-hash-check']);
    assert.equal(skipped.code, 0, skipped.stderr);
    // An existing data dir with content is refused (etcd's message) and left untouched.
    const existing = path.join(work, 'single');
    const before = listing(path.join(existing, 'member'));
    const r = await coracleSnapshot(['restore', saved.file, '--data-dir', existing]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`Error: data-dir "${existing.replace(/[.]/g, '\\.')}" exists`));
    assert.deepEqual(listing(path.join(existing, 'member')), before);
    // An existing empty directory (e.g. pre-created by provisioning) is taken.
    const empty = path.join(dir, 'empty-dir');
    fs.mkdirSync(empty);
    const ok = await coracleSnapshot(['restore', saved.file, '--data-dir', empty]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(fs.existsSync(path.join(empty, 'member', 'data.mdb')));
    // Bad flags are refused before anything is written, with etcd's text.
    const bad = await coracleSnapshot(['restore', saved.file, '--data-dir', path.join(dir, 'x'), '--name', 'nope', '--initial-cluster', 'default=http://localhost:2380']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /couldn't find local name "nope" in the initial cluster configuration/);
    assert.equal(fs.existsSync(path.join(dir, 'x')), false);
  } finally {
    removeTempDir(dir);
  }
}

function flipped(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0xff;
  return c;
}

test('(d) snapshot status matches etcdctl 3.4 on an etcd snapshot', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('etcd', 'etcdctl');
  if (skip) return t.skip(skip);
  const dir = createTempDir('coracle-snapshot-etcd-');
  const etcd = await startEtcd();
  const src = await startCoracle();
  try {
    for (const ep of [etcd.endpoints[0]!, src.endpoint]) {
      assert.equal((await etcdctl(ep, ['put', 'a', '1'])).code, 0);
      assert.equal((await etcdctl(ep, ['put', 'b', '2'])).code, 0);
    }
    const etcdFile = path.join(dir, 'etcd.db');
    const ourFile = path.join(dir, 'coracle.db');
    await save(etcd.endpoints[0]!, etcdFile);
    await save(src.endpoint, ourFile);
    for (const format of ['json', 'simple', 'table', 'fields']) {
      const theirs = await runCommand('/usr/bin/etcdctl', ['snapshot', 'status', etcdFile, '-w', format], { env: { ETCDCTL_API: '3' }, timeoutMs: 15_000 });
      assert.equal(theirs.code, 0, theirs.stderr);
      const ours = await coracleSnapshot(['status', ourFile, '-w', format]);
      assert.equal(ours.code, 0, ours.stderr);
      assert.deepEqual(shape(ours.stdout, format), shape(theirs.stdout, format), `-w ${format}`);
    }
    // etcd's own snapshot is recognised, not misread.
    const foreign = await coracleSnapshot(['status', etcdFile]);
    assert.equal(foreign.code, 1);
    assert.match(foreign.stderr, /etcd \(bbolt\) snapshot, not a Coracle one/);
  } finally {
    await src.stop();
    await etcd.stop();
    removeTempDir(dir);
  }
});

/** The output with its values abstracted: field names, order, types and layout only. */
function shape(out: string, format: string): unknown {
  switch (format) {
    case 'json': {
      const j = JSON.parse(out) as Record<string, unknown>;
      return Object.entries(j).map(([k, v]) => [k, typeof v]);
    }
    case 'simple':
      return out.replace(/^[0-9a-f]+, \d+, \d+, \d+(\.\d)? (B|kB|MB)\n$/, 'HASH, REV, KEYS, SIZE');
    case 'table':
      return out.split('\n').map((l) => (l.startsWith('|') ? cells(l).map((c, i) => (l.includes('HASH') ? c : ['hex', 'n', 'n', 'size'][i])) : l.replace(/-+/g, '-')));
    default:
      return out.split('\n').map((l) => l.replace(/: \d+$/, ': N'));
  }
}
