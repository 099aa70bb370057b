/**
 * The machinery of the ZooKeeper differential tests that script raw requests (ZkWireClient)
 * against a real ZooKeeper and against Coracle and compare the replies field by field:
 * bounded waits, a pool of sessions closed after each run, reply normalization (zxids, times
 * and session ids left out), transcripts of labelled replies, and the comparison that fails
 * listing every step whose two answers differ. Used by zk-tls-diff and zk-tls-unification-diff.
 */
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionOptions } from 'node:tls';
import { ZkWireClient, type WireReply } from '../../zkproxy/dispatch/zk-wire-client';
import { errName, type ZkRequest } from '../../protocol/jute';

/** Resolves with `p`, or rejects after `ms` (every wait of a differential run is bounded). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** The sessions a script opened, closed together when its run ends. */
export class WireSessions {
  private readonly open = new Set<ZkWireClient>();

  /** A session on 127.0.0.1:`port`, over TLS with `tls` (plain TCP when undefined). `who` names it in errors. */
  async connect(port: number, tls: ConnectionOptions | undefined, who: string): Promise<ZkWireClient> {
    const c = await within(
      ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 10_000, ...(tls ? { tls } : {}) }),
      10_000, `connect to ${port} as ${who}`,
    );
    this.open.add(c);
    return c;
  }

  /** Close every session (dropping those that do not close in 5 s). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open].map((c) => within(c.close(), 5000, 'close').catch(() => c.drop())));
    this.open.clear();
  }
}

/** A reply without zxids, times and session ids: the error name and the body. */
export function normalize(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('czxid' in o && 'mzxid' in o) {
      return {
        version: o.version, cversion: o.cversion, aversion: o.aversion, dataLength: o.dataLength, numChildren: o.numChildren,
        ephemeral: o.ephemeralOwner !== 0n,
      };
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}

/**
 * Send one request and return the normalized reply (or how it failed). whoAmI's list is sorted
 * unless `keepOrder`: the real server lists a connection's ids in the iteration order of a
 * ConcurrentHashMap-backed set (ServerCnxn.authInfo), which one test compares on its own.
 * getChildren's list is sorted: its order is unspecified (the real server's follows a HashSet;
 * the cross-checker compares it as a set too).
 */
export async function call(c: ZkWireClient, req: ZkRequest, keepOrder = false): Promise<unknown> {
  try {
    const r: WireReply = await within(c.send(req), 5000, req.op);
    if (r.body === undefined) return { err: errName(r.header.err) };
    let body = r.body;
    if (body.op === 'whoAmI' && !keepOrder) {
      const key = (i: { authScheme: string; user: string }): string => `${i.authScheme}\u0000${i.user}`;
      body = { ...body, clientInfo: [...body.clientInfo].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0)) };
    }
    if ((body.op === 'getChildren' || body.op === 'getChildren2') && Array.isArray(body.children)) body = { ...body, children: [...body.children].sort() };
    return { err: errName(r.header.err), body: normalize(body) };
  } catch (err) {
    return { failed: (err as Error).message };
  }
}

/** Labelled answers of one run, in order. */
export type Transcript = Array<[string, unknown]>;

/** A step that sends `req` on `c` and records the reply under `label` in `out`. */
export function stepper(out: Transcript): (label: string, c: ZkWireClient, req: ZkRequest) => Promise<void> {
  return async (label, c, req) => {
    out.push([label, await call(c, req)]);
  };
}

/** The two servers of a differential run. */
export interface DiffPair<S> {
  zookeeper: S;
  coracle: S;
}

/**
 * Run `script` against the real ZooKeeper, then against Coracle (closing `sessions` after each
 * run), and fail listing every step whose answers differ. CORACLE_TLS_DIFF_TRACE=1 prints every
 * step's two answers, equal or not.
 */
export async function differentialRun<S>(
  t: TestContext, pair: DiffPair<S>, sessions: WireSessions, script: (side: S) => Promise<Transcript>,
): Promise<void> {
  let zk: Transcript;
  let co: Transcript;
  try {
    zk = await script(pair.zookeeper);
  } finally {
    await sessions.closeAll();
  }
  try {
    co = await script(pair.coracle);
  } finally {
    await sessions.closeAll();
  }
  assert.deepEqual(co.map(([l]) => l), zk.map(([l]) => l), 'both runs took the same steps');
  const diffs: string[] = [];
  zk.forEach(([label, z], i) => {
    const c = co[i]?.[1];
    try {
      assert.deepStrictEqual(c, z);
    } catch {
      diffs.push(`${label}:\n    zookeeper ${JSON.stringify(z)}\n    coracle   ${JSON.stringify(c)}`);
    }
  });
  if (process.env.CORACLE_TLS_DIFF_TRACE === '1') zk.forEach(([label, z], i) => t.diagnostic(`${label}: zookeeper ${JSON.stringify(z)} | coracle ${JSON.stringify(co[i]?.[1])}`));
  for (const d of diffs) t.diagnostic(d);
  assert.equal(diffs.length, 0, `${diffs.length} of ${zk.length} steps differ:\n${diffs.join('\n')}`);
}
