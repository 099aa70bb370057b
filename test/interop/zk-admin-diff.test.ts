/**
 * ZooKeeper's AdminServer (`--zk-admin-listen`), compared with a real Apache ZooKeeper 3.8's:
 * the same two sessions (an ephemeral, data, exists and child watches) on each server, then every
 * command name ZooKeeper knows, its aliases and the HTTP edges, answer against answer. Fields are
 * compared by name and JSON type, and by value where the two servers mean the same thing
 * (counts, watches and ephemerals per session, the reset commands' effect); session ids are
 * compared as "the session of client A / B", since each server picks its own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpRequest } from '../support/http-request';
import { requirePeer } from '../support/peers';
import { freePorts, releasePorts } from '../support/ports';
import { fourLetterWord, startZookeeper } from '../support/zookeeper-peer';
import { startCoracle } from '../support/coracle-server';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** ZooKeeper's fields Coracle does not send, per command (the rest must match by name and type). */
const NOT_SENT: Record<string, string[]> = {
  server_stats: ['server_stats.fsync_threshold_exceed_count', 'server_stats.data_dir_size', 'server_stats.log_dir_size', 'server_stats.provider_null', 'server_stats.auth_failed_count', 'server_stats.non_mtlsremote_conn_count', 'server_stats.non_mtlslocal_conn_count'],
  environment: ['java.home', 'java.class.path', 'java.library.path', 'java.io.tmpdir', 'java.compiler', 'os.version', 'user.name', 'user.home', 'os.memory.max', 'os.memory.total'],
};
NOT_SENT.stats = NOT_SENT.server_stats!;

/** JSON with 64-bit integers kept exact (as strings). */
function parse(body: string): Record<string, unknown> {
  return JSON.parse(body.replace(/([:[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g, '$1"$2"')) as Record<string, unknown>;
}

const typeOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'string' && /^-?\d{16,}$/.test(v) ? 'number' : typeof v);

/** Objects whose keys are data (session ids, paths, times, member ids), not field names. */
const MAPS = new Set(['expiry_time_to_session_ids', 'session_id_to_ephemeral_paths', 'session_id_to_watched_paths', 'path_to_session_ids', 'current_config']);

/** Every field path of `o` with its JSON type (arrays' first element stands for all; a map's keys are `*`). */
function shape(o: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (typeOf(o) === 'object') {
    const isMap = MAPS.has(prefix.split('.').pop() ?? '');
    for (const [k, v] of Object.entries(o as object)) {
      const p = prefix ? `${prefix}.${isMap ? '*' : k}` : k;
      out.set(p, typeOf(v));
      shape(v, p, out);
    }
  } else if (Array.isArray(o) && o.length > 0) shape(o[0], `${prefix}[]`, out);
  return out;
}

/** One server under the same two sessions. */
interface Side {
  name: string;
  admin: number;
  /** Session id (decimal, as the AdminServer prints it) → "A" / "B". */
  label: Map<string, string>;
  get(cmd: string): Promise<Record<string, unknown>>;
}

async function prepare(name: string, zkPort: number, admin: number): Promise<{ side: Side; close(): Promise<void> }> {
  const a = await ZkWireClient.connect({ host: '127.0.0.1', port: zkPort, timeoutMs: 10_000 });
  const b = await ZkWireClient.connect({ host: '127.0.0.1', port: zkPort, timeoutMs: 10_000 });
  const ok = (r: { header: { err: number } }, what: string): void => assert.equal(r.header.err, 0, `${name}: ${what}`);
  ok(await a.send({ op: 'create', path: '/a', data: Buffer.from('x'), acl: OPEN, flags: 1 }), 'create /a');
  ok(await b.send({ op: 'create', path: '/b', data: null, acl: OPEN, flags: 0 }), 'create /b');
  ok(await a.send({ op: 'getData', path: '/a', watch: true }), 'getData /a');
  assert.equal((await a.send({ op: 'exists', path: '/zz', watch: true })).header.err, -101, `${name}: exists /zz`);
  ok(await a.send({ op: 'getChildren', path: '/', watch: true }), 'getChildren /');
  ok(await b.send({ op: 'exists', path: '/a', watch: true }), 'exists /a');
  const label = new Map([[BigInt.asIntN(64, a.session.sessionId).toString(), 'A'], [BigInt.asIntN(64, b.session.sessionId).toString(), 'B']]);
  const side: Side = {
    name, admin, label,
    get: async (cmd) => {
      const r = await httpRequest(admin, `/commands/${cmd}`);
      assert.equal(r.status, 200, `${name} ${cmd}`);
      assert.equal(r.type, 'application/json', `${name} ${cmd}`);
      return parse(r.body);
    },
  };
  return { side, close: async () => void (await Promise.all([a.close(), b.close()])) };
}

/** A map keyed by session id, with the ids replaced by labels and each value sorted. */
function bySession(side: Side, m: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(m as Record<string, unknown[]>).map(([id, v]) => [side.label.get(id) ?? id, [...v].map(String).sort()]));
}

function byPath(side: Side, m: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(m as Record<string, unknown[]>).map(([p, ids]) => [p, ids.map((id) => side.label.get(String(id)) ?? id).sort()]));
}

async function compareShapes(zk: Side, co: Side, cmd: string, zkAnswer: Record<string, unknown>, coAnswer: Record<string, unknown>): Promise<void> {
  const z = shape(zkAnswer);
  const c = shape(coAnswer);
  for (const [k, type] of c) {
    if (k.startsWith('coracle_')) continue;
    assert.equal(z.get(k), type, `${cmd}: field ${k} is ${type} on ${co.name}, ${z.get(k) ?? 'absent'} on ${zk.name}`);
  }
  // ZooKeeper adds hundreds of its own metrics and a JVM's properties; Coracle's must be among them.
  if (cmd === 'monitor' || cmd === 'system_properties') return;
  const missing = [...z.keys()].filter((k) => !c.has(k)).sort();
  assert.deepEqual(missing, [...(NOT_SENT[cmd] ?? [])].sort(), `${cmd}: fields of ${zk.name} that ${co.name} does not send`);
}

test('the AdminServer answers as Apache ZooKeeper 3.8 does', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const zkPeer = await startZookeeper({ adminServer: true, logLevel: 'warn' });
  const [adminPort] = (await freePorts(1)) as [number];
  const coracle = await startCoracle(['--zk-admin-listen', `127.0.0.1:${adminPort}`]);
  const zkSide = await prepare('ZooKeeper', zkPeer.port, zkPeer.adminPort!);
  const coSide = await prepare('Coracle', coracle.zkPort, adminPort);
  const [zk, co] = [zkSide.side, coSide.side];
  try {
    const list = await Promise.all([zk, co].map((s) => httpRequest(s.admin, '/commands')));
    const links = list.map((r) => [...r.body.matchAll(/href="\/commands\/(\w+)"/g)].map((m) => m[1]!));
    assert.deepEqual(links[1], links[0], 'the command list');
    const names = [...links[0]!, 'mntr', 'srvr', 'stat', 'conf', 'config', 'cons', 'env', 'envi', 'wchs', 'wchc', 'wchp', 'isro', 'icfg', 'lsnp', 'lead', 'orst', 'obsr'];
    let compared = 0;
    for (const cmd of names.filter((n) => !/reset|^(crst|srst|orst)$/.test(n))) {
      const [za, ca] = await Promise.all([zk.get(cmd), co.get(cmd)]);
      assert.equal(ca.command, za.command, `${cmd}: primary name`);
      assert.equal(ca.error, za.error, `${cmd}: error`);
      await compareShapes(zk, co, String(za.command), za, ca);
      compared++;
    }
    t.diagnostic(`compared ${compared} commands`);

    // Values the two servers mean alike.
    const both = async (cmd: string): Promise<[Record<string, unknown>, Record<string, unknown>]> => Promise.all([zk.get(cmd), co.get(cmd)]);
    const [zm, cm] = await both('monitor');
    for (const k of ['server_state', 'znode_count', 'ephemerals_count', 'watch_count', 'approximate_data_size', 'num_alive_connections']) {
      assert.equal(cm[k], zm[k], `monitor ${k}`);
    }
    const [zs, cs] = await both('stats');
    assert.equal(cs.node_count, zs.node_count, 'stats node_count');
    assert.equal((cs.connections as unknown[]).length, 2);
    assert.deepEqual(await co.get('watch_summary'), await zk.get('watch_summary'));
    const [zw, cw] = await both('watches');
    assert.deepEqual(bySession(co, cw.session_id_to_watched_paths), bySession(zk, zw.session_id_to_watched_paths));
    assert.deepEqual(bySession(co, cw.session_id_to_watched_paths), { A: ['/a', '/zz'], B: ['/a'] }, 'data and exists watches, not child watches');
    const [zp, cp] = await both('watches_by_path');
    assert.deepEqual(byPath(co, cp.path_to_session_ids), byPath(zk, zp.path_to_session_ids));
    const [zd, cd] = await both('dump');
    assert.deepEqual(bySession(co, cd.session_id_to_ephemeral_paths), bySession(zk, zd.session_id_to_ephemeral_paths));
    const expiring = (s: Side, d: Record<string, unknown>): string[] => Object.values(d.expiry_time_to_session_ids as Record<string, unknown[]>).flat().map((id) => s.label.get(String(id)) ?? String(id)).sort();
    assert.deepEqual(expiring(co, cd), expiring(zk, zd));
    for (const cmd of ['is_read_only', 'leader', 'voting_view', 'zabstate', 'observers', 'ruok']) assert.deepEqual(await co.get(cmd), await zk.get(cmd), cmd);
    const [zc, cc] = await both('configuration');
    for (const k of ['tick_time', 'min_session_timeout', 'max_session_timeout', 'max_client_cnxns']) assert.equal(cc[k], zc[k], `configuration ${k}`);
    assert.equal(cc.client_port, coracle.zkPort);
    assert.deepEqual([cc.data_dir, cc.data_log_dir], [`${coracle.dataDir}/member`, `${coracle.dataDir}/member/wal`]);
    const [zsp, csp] = await both('system_properties');
    for (const k of ['file.separator', 'line.separator', 'path.separator', 'os.arch', 'os.version', 'user.dir', 'user.home', 'user.name']) {
      assert.equal(typeof csp[k], 'string', `system_properties ${k}`);
      if (!['os.arch', 'user.dir'].includes(k)) assert.equal(csp[k], zsp[k], `system_properties ${k}: the same process facts`);
    }
    // The trace mask: ZooTrace's initial value, set through the query (or refused), read back.
    assert.deepEqual(await co.get('get_trace_mask'), await zk.get('get_trace_mask'));
    for (const query of ['', '?traceMask=12x', '?traceMask=9223372036854775808', '?traceMask=-5&traceMask=7']) {
      assert.deepEqual(await co.get(`set_trace_mask${query}`), await zk.get(`set_trace_mask${query}`), `set_trace_mask${query}`);
    }
    assert.deepEqual((await co.get('gtmk')).tracemask, -5);
    assert.deepEqual(await co.get('gtmk'), await zk.get('gtmk'));
    const [zdirs, cdirs] = await both('dirs');
    for (const d of [zdirs, cdirs]) assert.ok(Number(d.datadir_size) > 0 && Number(d.logdir_size) > 0, JSON.stringify(d));

    // The same lists as four-letter words, in ZooKeeper's text (its orders are hash orders: compared as sets).
    const word = async (s: Side, port: number, w: string): Promise<string> => {
      let text = await fourLetterWord('127.0.0.1', port, w);
      for (const [id, l] of s.label) text = text.split(`0x${BigInt.asUintN(64, BigInt(id)).toString(16)}`).join(l);
      return text.replace(/expire at [^\n]+:/g, 'expire at T:').replace(/ip: \/127\.0\.0\.1:\d+/g, 'ip: /127.0.0.1:P');
    };
    const groups = (text: string): string[] => text.split(/\n(?=[^\t])/).map((g) => g.split('\n').sort().join('|')).sort();
    for (const w of ['wchc', 'wchp']) {
      assert.deepEqual(groups(await word(co, coracle.zkPort, w)), groups(await word(zk, zkPeer.port, w)), w);
    }
    const javaDate = /\d expire at [A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}:\n/;
    assert.match(await fourLetterWord('127.0.0.1', zkPeer.port, 'dump'), javaDate);
    assert.match(await fourLetterWord('127.0.0.1', coracle.zkPort, 'dump'), javaDate, 'deadlines as Java prints a Date');
    const [zDump, cDump] = [await word(zk, zkPeer.port, 'dump'), await word(co, coracle.zkPort, 'dump')];
    const part = (text: string, from: string, to: string): string => text.slice(text.indexOf(from), text.indexOf(to));
    assert.deepEqual(groups(part(cDump, 'ephemeral nodes dump:', 'Connections dump:')), groups(part(zDump, 'ephemeral nodes dump:', 'Connections dump:')), 'dump: ephemerals');
    assert.match(cDump, /^SessionTracker dump:\nSession Sets \(\d\)\/\(2\):\n(\d expire at T:\n(\t[AB]\n)+)+ephemeral nodes dump:\n/, 'dump: sessions');
    // Every open connection, the asking one (no session yet) included, in 10 s buckets.
    const connectionLines = (text: string): string[] => text.slice(text.indexOf('Connections dump:')).split('\n').filter((l) => l.startsWith('\tip: ')).sort();
    // ZooKeeper's ExpiryQueue keeps a bucket its last connection left until the bucket's time
    // passes (ExpiryQueue.remove), so an empty one ("0 expire at …") may show on its side; Coracle
    // lists only buckets that hold a connection.
    const connectionsDump = (emptyBuckets: boolean): RegExp => new RegExp(`Connections dump:\nConnections Sets \\(\\d\\)/\\(3\\):\n(\\d expire at T:\n(\tip: /127\\.0\\.0\\.1:P sessionId: (?:[AB]|0x0)\n)${emptyBuckets ? '*' : '+'})+$`);
    assert.match(zDump, connectionsDump(true), 'dump: connections (ZooKeeper)');
    assert.match(cDump, connectionsDump(false), 'dump: connections (Coracle)');
    assert.deepEqual(connectionLines(cDump), connectionLines(zDump), 'dump: the same connections');

    // The resets: per connection (crst) and per server (srst).
    const conns = async (s: Side): Promise<Array<Record<string, unknown>>> => ((await s.get('connections')).connections as Array<Record<string, unknown>>);
    const [zBefore, cBefore] = await Promise.all([conns(zk), conns(co)]);
    assert.ok(cBefore.every((c) => Number(c.packets_received) > 0) && zBefore.every((c) => Number(c.packets_received) > 0));
    assert.deepEqual(await co.get('crst'), await zk.get('crst'));
    const reset = (cs: Array<Record<string, unknown>>): unknown[] => cs.map((c) => [c.packets_received, c.packets_sent, c.last_operation, c.last_cxid, c.last_zxid]);
    assert.deepEqual(reset(await conns(co)), reset(await conns(zk)), 'connection counters after crst');
    assert.deepEqual(reset(await conns(co)), [[0, 0, 'NA', -1, -1], [0, 0, 'NA', -1, -1]]);
    assert.deepEqual(await co.get('srst'), await zk.get('srst'));
    const served = async (s: Side): Promise<number> => Number(((await s.get('server_stats')).server_stats as Record<string, unknown>).packets_received);
    assert.deepEqual([await served(co), await served(zk)], [0, 0], 'server counters after srst');

    // HTTP edges.
    for (const [method, path, status] of [['POST', '/commands/ruok', 405], ['PUT', '/commands/ruok', 405], ['GET', '/elsewhere', 404], ['OPTIONS', '/commands/ruok', 200]] as const) {
      const [za, ca] = await Promise.all([zk, co].map((s) => httpRequest(s.admin, path, method)));
      assert.deepEqual([ca.status, za.status], [status, status], `${method} ${path}`);
      if (method === 'OPTIONS') assert.ok(ca.allow?.includes('GET') && za.allow?.includes('GET'));
    }
    const [zh, ch] = await Promise.all([zk, co].map((s) => httpRequest(s.admin, '/commands/ruok', 'HEAD')));
    assert.deepEqual([ch.status, ch.body, ch.type], [zh.status, zh.body, zh.type], 'HEAD');
    for (const odd of ['RUOK', 'ruok%20', 'ruok/']) {
      const [za, ca] = await Promise.all([zk, co].map((s) => httpRequest(s.admin, `/commands/${odd}`)));
      assert.deepEqual(parse(ca.body), parse(za.body), odd);
    }
  } finally {
    await Promise.all([zkSide.close(), coSide.close()]);
    await coracle.stop();
    await zkPeer.stop();
    releasePorts([adminPort]);
  }
});
