/**
 * A monitoring tool that parses the four-letter words, run unmodified: zktop (Debian's zktop
 * 1.0), the console "top" for a ZooKeeper ensemble. It sends `stat`, reads the version from the
 * first line with a regex, each client line `/ip:port[interest](k=v,…)` into a session, and every
 * later `Name: value` line into an attribute (`Latency min/avg/max`, `Received`, `Outstanding`,
 * `Zxid` in hex, `Mode`, `Node count`), and `srst` resets the counters. A server whose answer it
 * cannot parse shows as "Unavailable".
 *
 * zktop watches Coracle and a real ZooKeeper 3.8 side by side, as it would an ensemble, each
 * with the same two client sessions and the same znodes: both must parse, with the same
 * attributes, sessions and node count, and `srst` must reset Coracle's counters as ZooKeeper's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SYSTEM_PYTHON, requirePeer } from '../support/peers';
import { startCoracle } from '../support/coracle-server';
import { startZookeeper } from '../support/zookeeper-peer';
import { runCommand } from '../support/run-command';
import { callNodeZk, closeNodeZk, connectNodeZk } from '../support/node-zk-client';


/** What zktop made of one server's `stat`. */
interface ZktopView {
  unavailable: boolean;
  mode: string;
  version: string;
  attributes?: string[];
  sessions?: Array<{ host: string; interest_ops: string; queued: string; recved: string; sent: string }>;
  node_count?: number;
  zxid?: number;
  received?: number;
  latency?: string[];
}

/** zktop's own parser (its ZKServer class) over each server given; prints what it made of each as JSON. */
const ZKTOP = `
import json, sys
servers = sys.argv[1].split(',')
sys.argv = ['zktop', '--servers', sys.argv[1], '--timeout', '5']
import zktop
out = []
for i, server in enumerate(servers):
    s = zktop.ZKServer(server, i)
    view = {'unavailable': s.unavailable, 'mode': s.mode, 'version': s.version}
    if not s.unavailable:
        view.update(
            attributes=sorted(k for k in vars(s) if k not in ('server_id', 'host', 'port', 'sessions', 'unavailable')),
            sessions=[{k: getattr(x, k) for k in ('host', 'interest_ops', 'queued', 'recved', 'sent')} for x in s.sessions],
            node_count=int(s.node_count), zxid=zktop.strToLong(s.zxid, 16), received=int(s.received),
            latency=[s.min_latency, s.avg_latency, s.max_latency])
    out.append(view)
print(json.dumps(out))
`;

async function zktop(servers: readonly number[]): Promise<ZktopView[]> {
  const r = await runCommand(SYSTEM_PYTHON, ['-c', ZKTOP, servers.map((p) => `127.0.0.1:${p}`).join(',')], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, `zktop: ${r.stderr}`);
  return JSON.parse(r.stdout) as ZktopView[];
}

/**
 * What zktop's "r" key sends to each server, through its own `send_cmd` (its
 * `reset_server_stats` passes the port as a string, which Python 3's socket refuses).
 */
async function srst(port: number): Promise<void> {
  const r = await runCommand(SYSTEM_PYTHON, ['-c', `import sys; sys.argv = ['zktop']\nimport zktop\nzktop.send_cmd('127.0.0.1', ${port}, b'srst\\n')`], { timeoutMs: 30_000 });
  assert.equal(r.code, 0, `zktop srst: ${r.stderr}`);
}

function create(c: any, path: string): Promise<void> {
  return callNodeZk<void>((cb) => c.create(path, Buffer.from('x'), cb));
}

test('zktop parses Coracle\'s stat as it parses ZooKeeper 3.8\'s, and srst resets its counters', { timeout: 120_000 }, async (t) => {
  const skip = requirePeer('zktop', 'zookeeper');
  if (skip) return t.skip(skip);
  const coracle = await startCoracle();
  const zk = await startZookeeper();
  const clients: any[] = [];
  try {
    const ports = [coracle.zkPort, zk.port];
    for (const port of ports) {
      for (let i = 0; i < 2; i++) clients.push(await connectNodeZk(`127.0.0.1:${port}`));
      for (const p of ['/a', '/a/b', '/c']) await create(clients[clients.length - 1], p);
    }
    const [mine, theirs] = (await zktop(ports)) as [ZktopView, ZktopView];
    assert.equal(theirs.unavailable, false, 'zktop parses ZooKeeper (else this test checks nothing)');
    assert.equal(mine.unavailable, false, 'zktop shows Coracle as "Unavailable": its stat did not parse');
    assert.match(mine.version, /^\d+\.\d+\.\d+$/);
    assert.equal(mine.mode, theirs.mode);
    assert.deepEqual(mine.attributes, theirs.attributes, 'the same `Name: value` lines');
    assert.equal(mine.node_count, theirs.node_count, 'the same tree: / /zookeeper… plus /a /a/b /c');
    assert.ok(mine.zxid! > 0);
    for (const l of mine.latency!) assert.match(l, /^\d+(\.\d+)?$/);
    const shape = (v: ZktopView) => v.sessions!.map((s) => ({ host: s.host, interest_ops: s.interest_ops })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    assert.equal(mine.sessions!.length, theirs.sessions!.length, 'the two clients (and zktop\'s own connection, if listed) on each');
    assert.deepEqual(shape(mine), shape(theirs));
    for (const s of mine.sessions!) for (const k of ['queued', 'recved', 'sent'] as const) assert.match(s[k], /^\d+$/);

    // Received moves with traffic as on ZooKeeper. The clients go first (their pings would land
    // at random); then on each server one new session connects, creates a node and closes, and
    // zktop's next stat comes on top.
    for (const c of clients.splice(0)) await closeNodeZk(c);
    const [mine1, theirs1] = (await zktop(ports)) as [ZktopView, ZktopView];
    for (const port of ports) {
      const c = await connectNodeZk(`127.0.0.1:${port}`);
      await create(c, '/d');
      await closeNodeZk(c);
    }
    const [mine2, theirs2] = (await zktop(ports)) as [ZktopView, ZktopView];
    assert.equal(mine2.received! - mine1.received!, theirs2.received! - theirs1.received!, 'Received counts requests as ZooKeeper does');
    assert.equal(mine2.node_count, mine.node_count! + 1);

    for (const port of ports) await srst(port);
    const [after, theirsAfter] = (await zktop(ports)) as [ZktopView, ZktopView];
    assert.ok(theirsAfter.received! < theirs2.received!);
    assert.equal(after.received, theirsAfter.received, `srst reset Received as on ZooKeeper (${mine2.received} → ${after.received})`);
  } finally {
    for (const c of clients) c.close();
    await zk.stop();
    await coracle.stop();
  }
});
