/**
 * maxClientCnxns (`--zk-max-client-cnxns`): one client address may hold at most N connections;
 * the next is closed before anything is read, the others keep working, and a slot freed by a
 * close can be taken again. maxCnxns (`--zk-max-cnxns`) does the same for all addresses
 * together. Each sequence runs against Apache ZooKeeper 3.8 with the same limit, and both must
 * behave alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkWireClient } from '../../zkproxy/dispatch/zk-wire-client';
import { requirePeer } from '../support/peers';
import { fourLetterWord, startZookeeper } from '../support/zookeeper-peer';
import { startHarness } from './zk-harness';

const LIMIT = 3;

/** Opens LIMIT + 1 connections, then frees one and opens another; says what happened to each. */
async function probe(host: string, port: number): Promise<string[]> {
  const open: ZkWireClient[] = [];
  const outcome: string[] = [];
  const attempt = async (): Promise<void> => {
    try {
      const c = await ZkWireClient.connect({ host, port, timeoutMs: 10_000 });
      const r = await c.send({ op: 'exists', path: '/', watch: false });
      outcome.push(r.header.err === 0 ? 'served' : `err ${r.header.err}`);
      open.push(c);
    } catch {
      // Closed unread: the handshake write may fail (EPIPE) or its answer never come.
      outcome.push('refused');
    }
  };
  try {
    for (let i = 0; i <= LIMIT; i++) await attempt();
    for (const c of open) outcome.push((await c.send({ op: 'exists', path: '/', watch: false })).header.err === 0 ? 'still served' : 'broken');
    await open.shift()!.close();
    // The server frees the slot when it sees the close; give it a bounded moment.
    for (let i = 0; i < 50 && outcome.length < LIMIT * 2 + 3; i++) {
      const before = outcome.length;
      await attempt();
      if (outcome[before] === 'served') break;
      outcome.pop();
      await new Promise((r) => setTimeout(r, 20));
    }
    return outcome;
  } finally {
    for (const c of open) await c.close();
  }
}

const EXPECTED = ['served', 'served', 'served', 'refused', 'still served', 'still served', 'still served', 'served'];

test('one address gets at most --zk-max-client-cnxns connections, like ZooKeeper', { timeout: 60_000 }, async (t) => {
  const h = await startHarness({ maxClientCnxns: LIMIT });
  try {
    assert.deepEqual(await probe(h.host, h.port), EXPECTED);
    // Rejections are counted (more than one if a retry for the freed slot came before the
    // server saw the close); the four-letter word needs a free slot itself.
    assert.match(await fourLetterWord(h.host, h.port, 'mntr'), /^zk_connection_rejected\t[1-9]\d*$/m);
    assert.match(await fourLetterWord(h.host, h.port, 'conf'), new RegExp(`^maxClientCnxns=${LIMIT}$`, 'm'));
  } finally {
    await h.stop();
  }
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ config: { maxClientCnxns: LIMIT }, logLevel: 'warn' });
  try {
    assert.deepEqual(await probe(zk.host, zk.port), EXPECTED, 'Apache ZooKeeper 3.8 does the same');
  } finally {
    await zk.stop();
  }
});

test('at most --zk-max-cnxns connections in all, like ZooKeeper\'s maxCnxns', { timeout: 60_000 }, async (t) => {
  const h = await startHarness({ maxCnxns: LIMIT, maxClientCnxns: 0 });
  try {
    assert.deepEqual(await probe(h.host, h.port), EXPECTED);
  } finally {
    await h.stop();
  }
  const skip = requirePeer('zookeeper');
  if (skip) return t.skip(skip);
  const zk = await startZookeeper({ config: { maxCnxns: LIMIT, maxClientCnxns: 0 }, logLevel: 'warn' });
  try {
    assert.deepEqual(await probe(zk.host, zk.port), EXPECTED, 'Apache ZooKeeper 3.8 does the same');
  } finally {
    await zk.stop();
  }
});

test('the default limit is ZooKeeper\'s 60 per address', { timeout: 60_000 }, async () => {
  const h = await startHarness();
  const open: ZkWireClient[] = [];
  try {
    for (let i = 0; i < 60; i++) open.push(await ZkWireClient.connect({ host: h.host, port: h.port }));
    await assert.rejects(ZkWireClient.connect({ host: h.host, port: h.port }), 'the 61st connection is closed unanswered');
  } finally {
    for (const c of open) c.drop();
    await h.stop();
  }
});
