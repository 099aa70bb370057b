/**
 * `--zk-metrics-listen`: the `/metrics` endpoint of ZooKeeper's Prometheus metrics provider. The
 * Debian ZooKeeper 3.8 does not ship that provider, but its figures are the ones mntr prints
 * under the default provider (the same gauges and summaries, `zk_` added, a summary's count as
 * `zk_cnt_<name>`). So the same two sessions and requests run on a real ZooKeeper 3.8 and on
 * `coracle`, and every figure that means the same on both is compared: ZooKeeper's mntr against
 * Coracle's scrape, including how many requests each counted as reads and as updates. Then the
 * text format of the Java client (TYPE lines, label lists ending in a comma, Java doubles),
 * `name[]` selection, the HTTP edges, and a port already taken. Last, mntr's own rows of the same
 * summaries (`zk_cnt_readlatency`, `zk_p99_updatelatency`, ...), which `srst` resets, against
 * ZooKeeper's mntr, and the packet and byte counts through the AdminServer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { spawnSync } from 'node:child_process';
import { httpRequest } from '../support/http-request';
import { requirePeer } from '../support/peers';
import { freePorts, releasePorts } from '../support/ports';
import { fourLetterWord, startZookeeper } from '../support/zookeeper-peer';
import { CORACLE_BIN, startCoracle } from '../support/coracle-server';
import { createTempDir } from '../support/temp-dir';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** Prometheus names and the mntr keys that carry the same figure on ZooKeeper. */
const SAME_FIGURE: [string, string][] = [
  ['znode_count', 'zk_znode_count'], ['ephemerals_count', 'zk_ephemerals_count'], ['watch_count', 'zk_watch_count'],
  ['approximate_data_size', 'zk_approximate_data_size'], ['outstanding_requests', 'zk_outstanding_requests'], ['global_sessions', 'zk_global_sessions'],
  ['readlatency_count', 'zk_cnt_readlatency'], ['updatelatency_count', 'zk_cnt_updatelatency'],
];

/** The value of the sample `series` (name with its labels as printed); NaN stays NaN, absent is undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function mntrValue(mntr: string, key: string): number {
  const m = new RegExp(`^${key}\\t(\\S+)$`, 'm').exec(mntr);
  assert.ok(m, `ZooKeeper's mntr has no ${key}`);
  return Number(m[1]);
}

/** The same requests on a server: two sessions, reads and writes, failures, watches. */
async function workload(zkPort: number): Promise<() => Promise<void>> {
  const connect = (): Promise<ZkWireClient> => ZkWireClient.connect({ host: '127.0.0.1', port: zkPort, timeoutMs: 30_000, ping: false });
  const a = await connect();
  const b = await connect();
  const ok = async (c: ZkWireClient, req: Parameters<ZkWireClient['send']>[0], err = 0): Promise<void> => {
    assert.equal((await c.send(req)).header.err, err, `${req.op} ${'path' in req ? req.path : ''}`);
  };
  await ok(a, { op: 'create', path: '/app', data: Buffer.from('config'), acl: OPEN, flags: 0 });
  await ok(a, { op: 'create', path: '/app/lock', data: Buffer.from('held'), acl: OPEN, flags: 1 });
  await ok(a, { op: 'create', path: '/app/job-', data: null, acl: OPEN, flags: 2 });
  await ok(a, { op: 'setData', path: '/app', data: Buffer.from('config-2'), version: 0 });
  await ok(a, { op: 'setData', path: '/app', data: Buffer.from('stale'), version: 0 }, -103);
  await ok(a, { op: 'delete', path: '/nope', version: -1 }, -101);
  await ok(a, { op: 'getData', path: '/app', watch: true });
  await ok(a, { op: 'getData', path: '/nope', watch: false }, -101);
  await ok(b, { op: 'exists', path: '/later', watch: true }, -101);
  await ok(b, { op: 'getChildren', path: '/app', watch: true });
  await ok(b, { op: 'sync', path: '/app' });
  await ok(b, { op: 'ping' });
  await ok(b, { op: 'setData', path: '/app', data: Buffer.from('config-3'), version: 1 }); // a's data watch fires
  return async () => {
    await a.close();
    await b.close();
  };
}

test('the Prometheus provider figures match what ZooKeeper 3.8 counts for the same requests', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const [metricsPort] = await freePorts(1);
  const zk = await startZookeeper({ logLevel: 'warn' });
  const coracle = await startCoracle(['--zk-metrics-listen', `127.0.0.1:${metricsPort}`]);
  try {
    const closeZk = await workload(zk.port);
    const closeCoracle = await workload(coracle.zkPort);
    const mntr = await fourLetterWord('127.0.0.1', zk.port, 'mntr');
    const scrape = await httpRequest(metricsPort!, '/metrics');
    assert.equal(scrape.status, 200);
    assert.equal(scrape.type, 'text/plain; version=0.0.4; charset=utf-8');
    const m = scrape.body;
    for (const [name, key] of SAME_FIGURE) assert.equal(sample(m, name), mntrValue(mntr, key), `${name} against ZooKeeper's ${key}`);
    // ZooKeeper's count includes the connection that asked for mntr; a scrape comes over HTTP.
    assert.equal(sample(m, 'num_alive_connections'), mntrValue(mntr, 'zk_num_alive_connections') - 1);

    // The Java client's text: HELP is the name, TYPE says what it is, labels end in a comma.
    assert.match(m, /^# HELP znode_count znode_count\n# TYPE znode_count gauge\nznode_count \d+\.0$/m);
    assert.match(m, /^# TYPE connection_rejected counter$/m);
    assert.match(m, /^# TYPE readlatency summary$/m);
    for (const q of ['0.5', '0.9', '0.99']) {
      const v = sample(m, `updatelatency{quantile="${q}",}`);
      assert.ok(v !== undefined && v >= 0 && Number.isInteger(v), `updatelatency ${q} quantile is a whole number of ms: ${v}`);
    }
    const updates = sample(m, 'updatelatency_count')!;
    assert.ok(sample(m, 'updatelatency_sum')! <= updates * 1000, 'the sum is of ms under a second each');
    assert.match(m, /^jvm_memory_bytes_used\{area="heap",\} \d/m);
    assert.ok(Math.abs(sample(m, 'process_start_time_seconds')! - Date.now() / 1000) < 600, 'started in the last minutes');
    assert.ok(sample(m, 'process_cpu_seconds_total')! > 0);

    // name[] picks families (a summary by any of its sample names).
    const picked = (await httpRequest(metricsPort!, '/metrics?name[]=znode_count&name[]=readlatency_count')).body;
    assert.deepEqual([...picked.matchAll(/^# TYPE (\S+)/gm)].map((x) => x[1]), ['znode_count', 'readlatency']);

    // A closed session's ephemeral goes, and the close is one more update, on both.
    await closeZk();
    await closeCoracle();
    const after = (await httpRequest(metricsPort!, '/metrics')).body;
    assert.equal(sample(after, 'ephemerals_count'), 0);
    assert.equal(sample(after, 'updatelatency_count'), updates + 2, 'two closeSession requests');
    assert.equal(sample(after, 'updatelatency_count'), mntrValue(await fourLetterWord('127.0.0.1', zk.port, 'mntr'), 'zk_cnt_updatelatency'));

    assert.equal((await httpRequest(metricsPort!, '/metrics/')).status, 404, 'only /metrics');
    assert.equal((await httpRequest(metricsPort!, '/')).status, 404);
    assert.equal((await httpRequest(metricsPort!, '/metrics', 'PUT')).status, 405);
    const head = await httpRequest(metricsPort!, '/metrics', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  } finally {
    await coracle.stop();
    await zk.stop();
    releasePorts([metricsPort!]);
  }
});

test('a --zk-metrics-listen port already taken stops the start and names the flag', { timeout: 60_000 }, async () => {
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const taken = (squatter.address() as { port: number }).port;
  const [clientPort, zkPort] = await freePorts(2);
  try {
    const r = spawnSync(process.execPath, [
      CORACLE_BIN, '--data-dir', createTempDir('coracle-metrics-'), '--listen-client-urls', `http://127.0.0.1:${clientPort}`,
      '--zk-listen', `127.0.0.1:${zkPort}`, '--zk-metrics-listen', `127.0.0.1:${taken}`, '--log-level', 'error',
    ], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr + r.stdout, new RegExp(`cannot serve the ZooKeeper Prometheus metrics on 127\\.0\\.0\\.1:${taken}: .*EADDRINUSE.*--zk-metrics-listen`));
  } finally {
    releasePorts([clientPort!, zkPort!]);
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
  }
});

/** mntr's rows as a map (key → the value as printed). */
function mntrMap(text: string): Map<string, string> {
  return new Map(text.trim().split('\n').map((l) => l.split('\t') as [string, string]));
}

test("mntr's latency summaries and session rows as ZooKeeper 3.8 prints them, and srst resets them", { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ logLevel: 'warn', adminServer: true });
  const [coAdmin] = await freePorts(1);
  const coracle = await startCoracle(['--zk-admin-listen', `127.0.0.1:${coAdmin}`]);
  const closers: Array<() => Promise<void>> = [];
  try {
    // Packets and bytes as ZooKeeper counts them: handshakes, requests, four-letter words; replies,
    // notifications. Compared as growth over the same requests, read through the AdminServer so
    // that the reading adds no packet (ZooKeeper's start-up checks count too).
    const monitorOf = async (port: number): Promise<Record<string, number>> => JSON.parse((await httpRequest(port, '/commands/monitor')).body) as Record<string, number>;
    const before = await Promise.all([zk.adminPort!, coAdmin!].map(monitorOf));
    closers.push(await workload(zk.port), await workload(coracle.zkPort));
    const after = await Promise.all([zk.adminPort!, coAdmin!].map(monitorOf));
    for (const key of ['packets_received', 'packets_sent', 'bytes_received_count']) {
      const grew = [0, 1].map((i) => after[i]![key]! - before[i]![key]!);
      assert.equal(grew[1], grew[0], `${key} grew by ${grew[0]} on ZooKeeper`);
    }
    const [z, c] = (await Promise.all([zk.port, coracle.zkPort].map((p) => fourLetterWord('127.0.0.1', p, 'mntr')))).map(mntrMap) as [Map<string, string>, Map<string, string>];
    for (const kind of ['readlatency', 'updatelatency']) {
      for (const stat of ['avg', 'min', 'max', 'cnt', 'sum', 'p50', 'p95', 'p99', 'p999']) {
        const key = `zk_${stat}_${kind}`;
        assert.ok(z.has(key), `ZooKeeper prints ${key}`);
        assert.match(c.get(key) ?? 'absent', stat === 'avg' ? /^\d+\.\d+$/ : /^\d+$/, `${key} as ZooKeeper writes it (${z.get(key)})`);
      }
      assert.equal(c.get(`zk_cnt_${kind}`), z.get(`zk_cnt_${kind}`), `zk_cnt_${kind}`);
    }
    for (const key of ['zk_global_sessions', 'zk_local_sessions', 'zk_connection_drop_probability', 'zk_num_alive_connections', 'zk_avg_latency']) {
      assert.ok(z.has(key), `ZooKeeper prints ${key}`);
      if (key !== 'zk_avg_latency') assert.equal(c.get(key), z.get(key), key);
      else assert.match(c.get(key)!, /^\d+\.\d+$/, 'a double, as ZooKeeper prints it');
    }
    const stats = await Promise.all([zk.port, coracle.zkPort].map((p) => fourLetterWord('127.0.0.1', p, 'stat')));
    for (const text of stats) assert.match(text, /^Latency min\/avg\/max: \d+\/\d+\.\d+\/\d+$/m, 'the average as a double');
    // The asking connection is listed (not reading, one packet in) and counted, as on ZooKeeper.
    const shape = (text: string): string[] => [...text.matchAll(/^ \/127\.0\.0\.1:\d+(\[\d\]\(queued=\d+,recved=\d+,sent=\d+\))$/gm)].map((x) => x[1]!.replace(/recved=\d+,sent=\d+/, (m) => (m === 'recved=1,sent=0' ? m : 'recved=N,sent=N'))).sort();
    assert.deepEqual(shape(stats[1]!), shape(stats[0]!), 'stat: the clients listed');
    assert.equal(/^Connections: (\d+)$/m.exec(stats[1]!)?.[1], /^Connections: (\d+)$/m.exec(stats[0]!)?.[1], 'stat: Connections');
    const cons = await Promise.all([zk.port, coracle.zkPort].map((p) => fourLetterWord('127.0.0.1', p, 'cons')));
    for (const text of cons) assert.match(text, /^ \/127\.0\.0\.1:\d+\[0\]\(queued=0,recved=1,sent=0\)$/m, 'cons lists the asking connection briefly');
    // lresp is in ZooKeeper's elapsed time (CLOCK_MONOTONIC ms, the same clock on one host), not epoch ms.
    const [zResp, cResp] = cons.map((text) => Math.max(...[...text.matchAll(/lresp=(\d+)/g)].map((m) => Number(m[1])))) as [number, number];
    assert.ok(zResp > 0 && Math.abs(cResp - zResp) < 120_000, `cons lresp ${cResp} on the clock of ZooKeeper's ${zResp}`);
    // srst zeroes the summaries on both (the Prometheus ones, which only grow, excepted).
    await Promise.all([zk.port, coracle.zkPort].map((p) => fourLetterWord('127.0.0.1', p, 'srst')));
    const [z2, c2] = (await Promise.all([zk.port, coracle.zkPort].map((p) => fourLetterWord('127.0.0.1', p, 'mntr')))).map(mntrMap) as [Map<string, string>, Map<string, string>];
    for (const key of ['zk_cnt_readlatency', 'zk_cnt_updatelatency', 'zk_max_readlatency', 'zk_p99_updatelatency']) {
      assert.equal(z2.get(key), '0', `ZooKeeper's ${key} after srst`);
      assert.equal(c2.get(key), '0', `${key} after srst`);
    }
  } finally {
    for (const close of closers) await close();
    await coracle.stop();
    await zk.stop();
    releasePorts([coAdmin!]);
  }
});
