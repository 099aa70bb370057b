/**
 * A member removed while its raft stream to a peer is open learns it was removed: the peer
 * closes the stream at the next message it sends, the sender reconnects, the new stream is
 * refused with 410, and the sender reports `onRemoved` (the member then shuts down). Without
 * this, a removed member that never applies its own removal (the leader stops replicating to
 * it) kept its streams open and ran on (the migration step of etcdctl-cluster.test.ts timed out
 * waiting for it to exit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PeerHandler, PeerServer } from '../../../../core/server/peer-server';
import { PeerSender } from '../../../../core/server/peer-sender';
import { Message, MessageType } from '../../../../core/raft/types';
import { nullLogger } from '../../../../core/util/logger';
import { freePort } from '../../../support/ports';

const LOCAL = 0xaan;
const REMOVED = 0xbbn;
const CLUSTER = 0xc1n;

const heartbeat = (term: number): Message => ({
  type: MessageType.MsgHeartbeat, to: LOCAL, from: REMOVED, term, logTerm: 0, index: 0, commit: 0, vote: 0n,
  entries: [], reject: false, rejectHint: 0, context: new Uint8Array(0), responses: [],
});

test('a member removed while its stream is open is told 410 on its next message', { timeout: 20_000 }, async () => {
  let removed = false;
  const received: number[] = [];
  const handler: PeerHandler = {
    localId: () => LOCAL,
    clusterId: () => CLUSTER,
    isRemoved: (id) => removed && id === REMOVED,
    onMessage: (m) => received.push(m.term),
    members: () => [],
    raftLog: () => ({}),
    snapshot: () => {},
    rpc: async () => ({}),
  };
  const port = await freePort();
  const servers = await PeerServer.listen([`http://127.0.0.1:${port}`], handler, nullLogger);
  let told: () => void = () => {};
  const toldRemoved = new Promise<void>((resolve) => (told = resolve));
  const sender = new PeerSender({
    localId: REMOVED, remoteId: LOCAL, clusterId: CLUSTER, urls: [`http://127.0.0.1:${port}`], logger: nullLogger,
    onUnreachable: () => {},
    onRemoved: () => told(),
  });
  try {
    // Connected and delivering.
    for (let i = 0; i < 100 && received.length === 0; i++) {
      sender.send(heartbeat(1));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(received.length > 0, 'the stream never delivered a message');
    removed = true;
    const before = received.length;
    let gotIt = false;
    void toldRemoved.then(() => (gotIt = true));
    for (let i = 0; i < 100 && !gotIt; i++) {
      sender.send(heartbeat(2));
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(gotIt, 'the removed member was never told (410) while its stream stayed open');
    assert.equal(received.length, before, 'a message from a removed member was delivered to Raft');
  } finally {
    sender.close();
    await Promise.all(servers.map((s) => s.close()));
  }
});
