/**
 * Watches at scale: Apache ZooKeeper 3.8 standalone against `coracle`, one after the other, with
 * the same wire client (our jute codec). Each fresh server is measured twice:
 *
 * - Memory per watch: `--watches` exists watches on distinct missing paths (`/m/<i>`) spread
 *   over {@link MEMORY_SESSIONS} sessions, {@link MEMORY_DEPTH} requests in flight on each. The
 *   server's RSS (/proc) with those sessions open and idle, and {@link AFTER_WAIT_MS} after the
 *   last reply; (after − before) / watches. mntr's zk_watch_count shows the server holds them.
 *   Then the sessions close, timed until mntr counts no watch.
 * - Fan-out: `--sessions` sessions connect ({@link CONNECTS_IN_FLIGHT} handshakes at a time),
 *   each sets a data watch on `/shared` (getData with watch) and an exists watch on a missing
 *   path of its own (`/w/<i>`), all sent at once; another session sets `/shared`; timed from
 *   sending that setData until every session has its NodeDataChanged. Then all close, timed
 *   until mntr counts no watch.
 *
 * Memory comes first so that "before" is a fresh server's, as in bench/RESULTS.md. ZooKeeper
 * runs with `-Xmx1000m` and `maxClientCnxns=0`, Coracle with `--zk-max-client-cnxns 0` (both
 * allow 60 connections per client address by default).
 *
 *   node dist/bench/zk-watch.js [--sessions 1000] [--watches 200000] [--coracle-flags '...'] [--skip-zookeeper]
 */
import * as path from 'node:path';
import { EventType, ZkErr, errName, type WatcherEvent, type ZkRequest } from '../protocol/jute';
import { ZkWireClient } from '../zkproxy/dispatch/zk-wire-client';
import { OPEN_ACL_UNSAFE } from '../zkproxy/mapping/acl-rules';
import { within } from '../test/support/zk-reply-diff';
import { pollUntil, sleep } from '../test/support/poll';
import { benchFlags } from './lib/bench-flags';
import { inLanes } from './lib/lanes';
import { mntrNumber } from './lib/mntr';
import { residentBytes } from './lib/proc-rss';
import { zookeeperThenCoracle } from './lib/zk-side-by-side';

const DIST = path.resolve(__dirname, '..');
const SHARED = '/shared';
/** Handshakes in flight: ZooKeeper's default listen backlog is 50, a burst past it waits on SYN retries. */
const CONNECTS_IN_FLIGHT = 50;
/** Sessions and requests in flight on each for the memory measurement. */
const MEMORY_SESSIONS = 10;
const MEMORY_DEPTH = 256;
/** Wait after the last watch is set before reading RSS, and with idle sessions before "before". */
const AFTER_WAIT_MS = 5000;
const IDLE_WAIT_MS = 3000;
/** Bounds on each phase, whatever the server's speed. */
const PHASE_LIMIT_MS = 120_000;
const MEMORY_LIMIT_MS = 15 * 60_000;
/** Pause between mntr polls while waiting for closed sessions' watches to go. */
const POLL_MS = 5;

const USAGE = `usage: node dist/bench/zk-watch.js [--sessions 1000] [--watches 200000] [--coracle-flags '...'] [--skip-zookeeper]`;
const flags = benchFlags(USAGE, ['sessions', 'watches', 'coracle-flags'], ['skip-zookeeper']);

/** One server's figures; times in ms, memory in bytes. */
interface Row {
  server: string;
  connectMs: number;
  setWatchesMs: number;
  setDataReplyMs: number;
  allNotifiedMs: number;
  closeMs: number;
  clientCpuMs: number;
  rssBefore: number;
  rssAfter: number;
  memorySetMs: number;
  watchCount: number;
  memoryCloseMs: number;
}

/** Sends `req` and insists on the reply's error code being `want` (0, or NONODE for a missing path). */
async function sendExpecting(c: ZkWireClient, req: ZkRequest, want: number): Promise<void> {
  const r = await c.send(req);
  if (r.header.err !== want) throw new Error(`${req.op} ${'path' in req ? req.path : ''}: ${errName(r.header.err)}, expected ${errName(want)}`);
}

const connect = (port: number, onNotification?: (e: WatcherEvent) => void): Promise<ZkWireClient> =>
  ZkWireClient.connect({ host: '127.0.0.1', port, timeoutMs: 30_000, ...(onNotification ? { onNotification } : {}) });

/** Closes every session (closeSession, then the socket), bounded; returns the elapsed ms. */
async function closeAll(label: string, clients: ZkWireClient[]): Promise<number> {
  const t0 = performance.now();
  await within(Promise.all(clients.map((c) => c.close())), PHASE_LIMIT_MS, `${label}: closing ${clients.length} sessions`);
  return performance.now() - t0;
}

const watchCount = (port: number): Promise<number> => mntrNumber(port, 'zk_watch_count');

const mb = (b: number): string => (b / 1048576).toFixed(0);

/**
 * Polls mntr every {@link POLL_MS} until zk_watch_count is 0 (bounded); returns the elapsed ms.
 * A server may drop a closed session's watches after its closeSession reply (Coracle does
 * when the connection closes), so the reply alone does not show the work done.
 */
async function watchesGone(label: string, port: number): Promise<number> {
  const t0 = performance.now();
  await pollUntil(`${label}: mntr counting no watch after the sessions closed`, async () => ((await watchCount(port)) === 0 ? true : undefined), PHASE_LIMIT_MS, POLL_MS);
  return performance.now() - t0;
}

/** The memory measurement (see the file comment). */
async function memoryPerWatch(label: string, port: number, pid: number, watches: number): Promise<Pick<Row, 'rssBefore' | 'rssAfter' | 'memorySetMs' | 'watchCount' | 'memoryCloseMs'>> {
  const clients: ZkWireClient[] = [];
  try {
    await inLanes(`${label}: connecting`, MEMORY_SESSIONS, MEMORY_SESSIONS, PHASE_LIMIT_MS, async () => void clients.push(await connect(port)));
    await sleep(IDLE_WAIT_MS);
    const rssBefore = residentBytes(pid);
    const step = Math.max(1, Math.floor(watches / 10));
    let done = 0;
    process.stderr.write(`${label}: setting ${watches} exists watches, ${MEMORY_SESSIONS} sessions × ${MEMORY_DEPTH} in flight\n`);
    const memorySetMs = await inLanes(`${label}: setting watches`, watches, MEMORY_SESSIONS * MEMORY_DEPTH, MEMORY_LIMIT_MS, async (i, lane) => {
      await sendExpecting(clients[lane % MEMORY_SESSIONS]!, { op: 'exists', path: `/m/${i}`, watch: true }, ZkErr.NONODE);
      if (++done % step === 0) process.stderr.write(`${label}: ${done}/${watches} watches\n`);
    });
    await sleep(AFTER_WAIT_MS);
    const rssAfter = residentBytes(pid);
    const count = await watchCount(port);
    const memoryCloseMs = await closeAll(label, clients) + await watchesGone(label, port);
    process.stderr.write(`${label}: RSS ${mb(rssBefore)} → ${mb(rssAfter)} MB; the ${MEMORY_SESSIONS} sessions closed in ${memoryCloseMs.toFixed(0)} ms\n`);
    return { rssBefore, rssAfter, memorySetMs, watchCount: count, memoryCloseMs };
  } finally {
    for (const c of clients) c.drop();
  }
}

/** The fan-out measurement (see the file comment). */
async function fanOut(label: string, port: number, n: number): Promise<Pick<Row, 'connectMs' | 'setWatchesMs' | 'setDataReplyMs' | 'allNotifiedMs' | 'closeMs' | 'clientCpuMs'>> {
  const seen = new Uint8Array(n);
  let notified = 0;
  let stray = '';
  let onAll = (): void => undefined;
  const clients: ZkWireClient[] = new Array<ZkWireClient>(n);
  let writer: ZkWireClient | undefined;
  try {
    writer = await within(connect(port), PHASE_LIMIT_MS, `${label}: writer session`);
    await sendExpecting(writer, { op: 'create', path: SHARED, data: Buffer.from('0'), acl: OPEN_ACL_UNSAFE, flags: 0 }, 0);
    const cpu0 = process.cpuUsage();
    process.stderr.write(`${label}: connecting ${n} sessions\n`);
    const connectMs = await inLanes(`${label}: connecting`, n, CONNECTS_IN_FLIGHT, PHASE_LIMIT_MS, async (i) => {
      clients[i] = await connect(port, (e): void => {
        if (e.type !== EventType.NodeDataChanged || e.path !== SHARED || seen[i]) {
          stray ||= `session ${i}: type ${e.type} state ${e.state} path ${e.path}`;
          return;
        }
        seen[i] = 1;
        if (++notified === n) onAll();
      }).catch((e: Error) => {
        throw new Error(`${label}: session ${i + 1} of ${n}: ${e.message}`);
      });
    });
    process.stderr.write(`${label}: setting ${2 * n} watches\n`);
    const setWatchesMs = await inLanes(`${label}: setting watches`, n, n, PHASE_LIMIT_MS, async (i) => {
      const c = clients[i]!;
      await Promise.all([sendExpecting(c, { op: 'getData', path: SHARED, watch: true }, 0), sendExpecting(c, { op: 'exists', path: `/w/${i}`, watch: true }, ZkErr.NONODE)]);
    });
    const all = new Promise<number>((resolve) => (onAll = () => resolve(performance.now())));
    const t0 = performance.now();
    const reply = sendExpecting(writer, { op: 'setData', path: SHARED, data: Buffer.from('1'), version: -1 }, 0).then(() => performance.now());
    const [replied, allAt] = await within(Promise.all([reply, all]), PHASE_LIMIT_MS, `${label}: notifications`).catch((e: Error) => {
      throw new Error(`${e.message}; ${notified}/${n} sessions notified`);
    });
    if (stray) throw new Error(`${label}: unexpected notification (${stray})`);
    process.stderr.write(`${label}: all ${n} notified; closing\n`);
    const closeMs = await closeAll(label, clients) + await watchesGone(label, port);
    const cpu = process.cpuUsage(cpu0);
    return { connectMs, setWatchesMs, setDataReplyMs: replied - t0, allNotifiedMs: allAt - t0, closeMs, clientCpuMs: (cpu.user + cpu.system) / 1000 };
  } finally {
    writer?.drop();
    for (const c of clients) c?.drop();
  }
}

/** Both measurements on one server, memory first. */
async function measure(server: string, port: number, pid: number, sessions: number, watches: number): Promise<Row> {
  const memory = await memoryPerWatch(server, port, pid, watches);
  await sleep(IDLE_WAIT_MS);
  return { server, ...(await fanOut(server, port, sessions)), ...memory };
}

/** The table's rows: a label and how to print one server's figure (a number, for the ratio). */
function lines(sessions: number, watches: number): [string, (r: Row) => number, (v: number) => string][] {
  const ms = (v: number): string => v.toFixed(0);
  return [
    [`fan-out: connect ${sessions} sessions, ms`, (r) => r.connectMs, ms],
    [`set ${2 * sessions} watches, ms`, (r) => r.setWatchesMs, ms],
    ['setData reply, ms', (r) => r.setDataReplyMs, (v) => v.toFixed(1)],
    [`all ${sessions} notified (from sending the setData), ms`, (r) => r.allNotifiedMs, (v) => v.toFixed(1)],
    [`close ${sessions} sessions until mntr counts 0 watches, ms`, (r) => r.closeMs, ms],
    ['bench client CPU for the fan-out, ms', (r) => r.clientCpuMs, ms],
    ['memory: RSS before, MB', (r) => r.rssBefore, mb],
    [`RSS ${AFTER_WAIT_MS / 1000} s after ${watches} watches, MB`, (r) => r.rssAfter, mb],
    ['bytes per watch', (r) => (r.rssAfter - r.rssBefore) / watches, (v) => v.toFixed(0)],
    [`set ${watches} watches, ms`, (r) => r.memorySetMs, ms],
    ['zk_watch_count (mntr) after', (r) => r.watchCount, String],
    [`close the ${MEMORY_SESSIONS} sessions holding them until mntr counts 0, ms`, (r) => r.memoryCloseMs, ms],
  ];
}

async function main(): Promise<void> {
  const sessions = flags.num('sessions', 1000);
  const watches = flags.num('watches', 200_000);
  if (!(Number.isSafeInteger(sessions) && sessions > 0 && Number.isSafeInteger(watches) && watches > 0)) throw new Error('--sessions and --watches must be positive integers');
  const rows = await zookeeperThenCoracle(DIST, flags, {
    zookeeperConfig: { maxClientCnxns: 0 },
    coracleArgs: ['--zk-max-client-cnxns', '0'],
    zookeeper: (zk) => measure(`ZooKeeper ${zk.version}`, zk.port, zk.process.pid, sessions, watches),
    coracle: (c, name) => measure(name, c.port, c.pid, sessions, watches),
  });
  const ratio = rows.length === 2;
  let out = `sessions=${sessions} watches=${watches} (${MEMORY_SESSIONS} sessions, ${MEMORY_DEPTH} in flight each)\n\n`;
  out += `| | ${rows.map((r) => r.server).join(' | ')} |${ratio ? ` ${rows[1]!.server} / ${rows[0]!.server} |` : ''}\n`;
  out += `|---|${rows.map(() => '---|').join('')}${ratio ? '---|' : ''}\n`;
  for (const [label, get, show] of lines(sessions, watches)) {
    const vs = rows.map(get);
    out += `| ${label} | ${vs.map(show).join(' | ')} |${ratio ? ` ${(vs[1]! / vs[0]!).toFixed(2)}× |` : ''}\n`;
  }
  process.stdout.write(out);
}

void main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
