/**
 * A connection's notifications against the reply of a request in flight (zkproxy/net/
 * connection.ts): a change committed after a read ran is announced after that read's reply,
 * even when something holds the reply up between running the read and writing it (the
 * cross-checker does, while it waits for the oracle); a change the reply reflects is announced
 * before it. Found with Curator's DistributedQueue under the cross-checker: the consumer's
 * getChildren watch fired before the getChildren reply, the Java client dropped the event
 * (it registers the watch on the reply), and the queue stalled.
 *
 * A decorator parks chosen requests: after the store ran a read (its watch is armed) or before
 * the store runs a write. Frame ordinals from ZkWireClient give the order on the wire.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventType } from '../../../../protocol/jute';
import { MemoryBackend } from '../../../../zkproxy/backend/memory-backend';
import { ZkWireClient } from '../../../../zkproxy/dispatch/zk-wire-client';
import { decorate } from '../../../../zkproxy/dispatch/zk-handler';
import { silentLogger } from '../../../../zkproxy/logger';
import { startZkProxy } from '../../../../zkproxy';
import { waitUntil } from '../../../support/poll';

const OPEN = [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];

/** A gate a parked request waits on; `parked` resolves once a request is waiting at it. */
class Gate {
  private open!: () => void;
  private readonly opened = new Promise<void>((r) => (this.open = r));
  private arrived!: () => void;
  readonly parked = new Promise<void>((r) => (this.arrived = r));

  async pass(): Promise<void> {
    this.arrived();
    await this.opened;
  }

  release(): void {
    this.open();
  }
}

async function withProxy(
  park: (op: string, path: string | undefined) => { gate: Gate; when: 'before' | 'after' } | undefined,
  fn: (port: number) => Promise<void>,
): Promise<void> {
  const backend = new MemoryBackend();
  const proxy = await startZkProxy({
    backend, port: 0, logger: silentLogger,
    decorate: (inner) => decorate(inner, async (op, _ctx, req, next) => {
      const p = park(op, 'path' in req ? req.path : undefined);
      if (p?.when === 'before') await p.gate.pass();
      const reply = await next();
      if (p?.when === 'after') await p.gate.pass();
      return reply;
    }),
  });
  try {
    await fn(proxy.address.port);
  } finally {
    await proxy.close();
    await backend.close();
  }
}

/** A notification as the watching client received it, with the frame number it came in. */
type Seen = { type: number; path: string; frame: number };

/**
 * Runs `fn` with a watching client (its notifications recorded in order) and a second client;
 * the watcher is dropped and the other closed afterwards.
 */
async function withClients(port: number, fn: (watcher: ZkWireClient, events: Seen[], other: ZkWireClient) => Promise<void>): Promise<void> {
  const events: Seen[] = [];
  const watcher = await ZkWireClient.connect({ host: '127.0.0.1', port, onNotification: (e, frame) => events.push({ ...e, frame }) });
  const other = await ZkWireClient.connect({ host: '127.0.0.1', port });
  try {
    await fn(watcher, events, other);
  } finally {
    watcher.drop();
    await other.close();
  }
}


test('a change committed after a read ran is announced after the read\'s reply, however late the reply', { timeout: 30_000 }, async () => {
  const gate = new Gate();
  await withProxy((op, path) => (op === 'getChildren' && path === '/q' ? { gate, when: 'after' } : undefined), async (port) => {
    await withClients(port, async (reader, events, writer) => {
      await writer.send({ op: 'create', path: '/q', data: null, acl: OPEN, flags: 0 });
      const read = reader.send({ op: 'getChildren', path: '/q', watch: true });
      await gate.parked; // the read ran: the watch is armed, its reply is held up
      const created = await writer.send({ op: 'create', path: '/q/item-1', data: null, acl: OPEN, flags: 0 });
      assert.equal(created.header.err, 0);
      await new Promise((r) => setTimeout(r, 100)); // room for a notification to overtake
      gate.release();
      const reply = await read;
      assert.deepEqual(reply.body, { op: 'getChildren', children: [] }, 'the reply shows the state the read ran at');
      await waitUntil('the NodeChildrenChanged event', () => events.length > 0);
      assert.equal(events[0]!.type, EventType.NodeChildrenChanged);
      assert.ok(events[0]!.frame > reply.frame, `event in frame ${events[0]!.frame} went before the reply in frame ${reply.frame}`);
    });
  });
});

test('a change a held reply reflects is still announced before that reply', { timeout: 30_000 }, async () => {
  const gate = new Gate();
  await withProxy((op, path) => (op === 'setData' && path === '/mine' ? { gate, when: 'before' } : undefined), async (port) => {
    await withClients(port, async (client, events, other) => {
      await client.send({ op: 'create', path: '/mine', data: null, acl: OPEN, flags: 0 });
      await client.send({ op: 'create', path: '/watched', data: null, acl: OPEN, flags: 0 });
      await client.send({ op: 'getData', path: '/watched', watch: true });
      const write = client.send({ op: 'setData', path: '/mine', data: Buffer.from('x'), version: -1 });
      await gate.parked; // the client's write waits; meanwhile another session changes /watched
      await other.send({ op: 'setData', path: '/watched', data: Buffer.from('y'), version: -1 });
      gate.release();
      const reply = await write; // committed after the change, so its zxid is higher
      assert.equal(reply.header.err, 0);
      assert.equal(events.length, 1, 'the event is there when the reply is');
      assert.equal(events[0]!.type, EventType.NodeDataChanged);
      assert.ok(events[0]!.frame < reply.frame, 'the event of an earlier change comes before the reply');
    });
  });
});
