/**
 * Differential test of the watch counters monitoring tools read: `wchs` (ZooKeeper 3.8
 * summarises its data-watch table only: connections holding a data, exists or persistent watch,
 * their paths, their entries) and mntr's `zk_watch_count` (data and child entries), after each
 * step of the same script against a real Apache ZooKeeper 3.8 and against `coracle`: watches of
 * each kind on two sessions (a third one idle), one-shot watches used up by a change, and a
 * session closing with its watches.
 */
import { after, before, test } from 'node:test';
import type { ZkRequest } from '../../protocol/jute';
import { startCoracle, type CoracleServer } from '../support/coracle-server';
import { requirePeer } from '../support/peers';
import { sleep } from '../support/poll';
import { differentialRun, stepper, within, WireSessions, type Transcript } from '../support/zk-reply-diff';
import { fourLetterWord, startZookeeper, type ZookeeperPeer } from '../support/zookeeper-peer';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

let zk: ZookeeperPeer | undefined;
let co: CoracleServer | undefined;
let skip: string | undefined;

before(async () => {
  skip = requirePeer('zookeeper');
  if (skip) return;
  [zk, co] = await Promise.all([startZookeeper({ logLevel: 'warn' }), startCoracle([])]);
});

after(async () => {
  await Promise.all([zk?.stop(), co?.stop()]);
});

const sessions = new WireSessions();

/** The two counters as a monitoring tool reads them. */
async function counters(port: number): Promise<string> {
  const wchs = (await within(fourLetterWord('127.0.0.1', port, 'wchs'), 5000, 'wchs')).trim().replace(/\n/g, ' | ');
  const mntr = await within(fourLetterWord('127.0.0.1', port, 'mntr'), 5000, 'mntr');
  return `${wchs} | mntr ${/^zk_watch_count\t(\d+)$/m.exec(mntr)?.[1] ?? 'missing'}`;
}

/**
 * The counters once two reads 100 ms apart agree (at most 3 s): ZooKeeper drops a closed
 * session's watches when it tears the connection down, which can come just after the
 * closeSession reply.
 */
async function settledCounters(port: number): Promise<string> {
  let last = await counters(port);
  for (let i = 0; i < 30; i++) {
    await sleep(100);
    const now = await counters(port);
    if (now === last) return now;
    last = now;
  }
  return last;
}

async function script(port: number): Promise<Transcript> {
  const out: Transcript = [];
  const step = stepper(out);
  const count = async (label: string): Promise<void> => {
    out.push([`counters ${label}`, await counters(port)]);
  };
  const [a, b] = [await sessions.connect(port, undefined, 'a'), await sessions.connect(port, undefined, 'b')];
  await sessions.connect(port, undefined, 'idle');
  for (const path of ['/a', '/b', '/d', '/e']) await step(`create ${path}`, a, { op: 'create', path, data: null, acl: OPEN, flags: 0 });
  await count('before any watch');
  const watches: Array<[string, typeof a, ZkRequest]> = [
    ['child watch on /a', a, { op: 'getChildren', path: '/a', watch: true }],
    ['data watch on /b', a, { op: 'getData', path: '/b', watch: true }],
    ['exists watch on missing /c, second session', b, { op: 'exists', path: '/c', watch: true }],
    ['data watch on /b, second session', b, { op: 'getData', path: '/b', watch: true }],
    ['persistent watch on /d', a, { op: 'addWatch', path: '/d', mode: 0 }],
    ['recursive watch on /e', a, { op: 'addWatch', path: '/e', mode: 1 }],
  ];
  for (const [label, c, req] of watches) {
    await step(label, c, req);
    await count(`after the ${label}`);
  }
  await step('setData /b fires both one-shot watches', b, { op: 'setData', path: '/b', data: Buffer.from('x'), version: -1 });
  await count('after /b changed');
  await within(a.close(), 5000, 'close a');
  out.push(['counters after the first session closed', await settledCounters(port)]);
  return out;
}

test('wchs and mntr zk_watch_count count watches as ZooKeeper 3.8 does', { timeout: 60_000 }, async (t) => {
  if (skip) return t.skip(skip);
  await differentialRun(t, { zookeeper: zk!.port, coracle: co!.zkPort }, sessions, script);
});
