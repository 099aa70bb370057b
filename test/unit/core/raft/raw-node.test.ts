import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, bytes } from './cluster';
import { StateType } from '../../../../core/raft/types';
import { ProposalDroppedError } from '../../../../core/raft/errors';

test('single voter: campaign → leader; propose commits in the next Ready', () => {
  const c = new TestCluster([1n]);
  const n = c.get(1n);
  n.node.campaign();
  c.processReady(1n);
  assert.equal(n.node.status().raftState, StateType.Leader);
  n.node.propose(bytes('hello'));
  assert.ok(n.node.hasReady());
  const rd = n.node.ready();
  assert.equal(rd.entries.length, 1);
  assert.equal(rd.committedEntries.length, 1);
  assert.deepEqual(rd.committedEntries[0], rd.entries[0]);
  assert.equal(rd.mustSync, true);
  n.storage.append(rd.entries);
  if (rd.hardState) n.storage.setHardState(rd.hardState);
  n.node.advance(rd);
  assert.equal(n.node.hasReady(), false);
});

test('single voter: readIndex answered once a current-term entry is committed', () => {
  const c = new TestCluster([1n]);
  const n = c.get(1n);
  n.node.campaign();
  c.stabilize();
  n.node.readIndex(bytes('r1'));
  c.stabilize();
  assert.equal(n.readStates.length, 1);
  assert.equal(n.readStates[0]!.index, n.node.status().commit);
});

test('follower without leader drops proposals', () => {
  const c = new TestCluster([1n, 2n, 3n]);
  assert.throws(() => c.get(2n).node.propose(bytes('x')), ProposalDroppedError);
  assert.throws(() => c.get(2n).node.readIndex(bytes('x')), ProposalDroppedError);
});

test('three voters: election, replication, forwarding and read index', () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.get(1n).node.campaign();
  c.stabilize();
  assert.equal(c.leader(), 1n);
  c.get(1n).node.propose(bytes('a'));
  c.get(2n).node.propose(bytes('b'));
  c.stabilize();
  for (const id of [1n, 2n, 3n]) assert.deepEqual(c.appliedData(id), ['a', 'b']);
  c.get(3n).node.readIndex(bytes('rd'));
  c.stabilize();
  assert.equal(c.get(3n).readStates.length, 1);
  assert.equal(c.get(3n).readStates[0]!.index, c.get(1n).node.status().commit);
});

test('three voters: elections by ticking, leader failover', () => {
  const c = new TestCluster([1n, 2n, 3n], { preVote: true, checkQuorum: true });
  for (let i = 0; i < 40 && c.leader() === undefined; i++) {
    c.tickAll(1);
    c.stabilize();
  }
  const first = c.leader();
  assert.ok(first !== undefined);
  c.get(first).node.propose(bytes('x'));
  c.stabilize();
  c.isolate(first);
  let second: bigint | undefined;
  for (let i = 0; i < 60; i++) {
    c.tickAll(1);
    c.stabilize();
    for (const t of c.nodes.values()) {
      if (t.id !== first && t.node.status().raftState === StateType.Leader) second = t.id;
    }
    if (second !== undefined) break;
  }
  assert.ok(second !== undefined && second !== first);
  c.get(second).node.propose(bytes('y'));
  c.stabilize();
  c.recover();
  for (let i = 0; i < 30; i++) {
    c.tickAll(1);
    c.stabilize();
  }
  for (const id of [1n, 2n, 3n]) assert.deepEqual(c.appliedData(id), ['x', 'y']);
});

import { AssertionError } from '../../../../core/util/assert';
import { InvalidMessageError } from '../../../../core/raft/raw-node';
import { StepLocalMessageError, StepPeerNotFoundError } from '../../../../core/raft/errors';
import { MessageType, newMessage } from '../../../../core/raft/types';

test('RawNode.step rejects local, unknown-peer and malformed messages with typed errors', () => {
  const c = new TestCluster([1n, 2n, 3n]);
  const n = c.get(1n).node;
  const cases = [
    { name: 'local message type', m: newMessage({ type: MessageType.MsgHup, from: 2n, to: 1n }), err: StepLocalMessageError },
    { name: 'response from a non-member', m: newMessage({ type: MessageType.MsgAppResp, from: 9n, to: 1n, term: 1 }), err: StepPeerNotFoundError },
    { name: 'no sender', m: newMessage({ type: MessageType.MsgApp, to: 1n, term: 1 }), err: InvalidMessageError },
    { name: 'MsgSnap without snapshot', m: newMessage({ type: MessageType.MsgSnap, from: 2n, to: 1n, term: 1 }), err: InvalidMessageError },
    { name: 'MsgReadIndex without context', m: newMessage({ type: MessageType.MsgReadIndex, from: 2n, to: 1n }), err: InvalidMessageError },
    {
      name: 'MsgApp with a gap',
      m: newMessage({
        type: MessageType.MsgApp,
        from: 2n,
        to: 1n,
        term: 1,
        index: 0,
        entries: [
          { term: 1, index: 1, type: 0, data: new Uint8Array(0) },
          { term: 1, index: 3, type: 0, data: new Uint8Array(0) },
        ],
      }),
      err: InvalidMessageError,
    },
  ];
  for (const tc of cases) assert.throws(() => n.step(tc.m), tc.err, tc.name);
});

test('RawNode: ready() twice without advance() is a contract violation', () => {
  const c = new TestCluster([1n]);
  const n = c.get(1n).node;
  n.campaign();
  n.ready();
  assert.equal(n.hasReady(), false, 'nothing to hand out while a Ready is outstanding');
  assert.throws(() => n.ready(), AssertionError);
});

test('RawNode: restart with a saved commit behind the applied index', () => {
  const c = new TestCluster([1n]);
  const n = c.get(1n);
  n.node.campaign();
  c.stabilize();
  n.node.propose(bytes('x'));
  c.stabilize();
  // Simulate losing the last (unsynced, commit-only) hard state write.
  const hs = n.storage.initialState().hardState;
  n.storage.setHardState({ ...hs, commit: 1 });
  const restarted = new (n.node.constructor as typeof import('../../../../core/raft/raw-node').RawNode)({
    id: 1n,
    electionTick: 10,
    heartbeatTick: 1,
    storage: n.storage,
    applied: 2,
    maxSizePerMsg: 1024,
    maxUncommittedEntriesSize: 0,
    maxInflightMsgs: 16,
    checkQuorum: false,
    preVote: false,
    readOnlyOption: 'safe',
    rand: { intn: () => 0, uint64: () => 0n },
  });
  assert.equal(restarted.status().commit, 2);
  assert.equal(restarted.status().applied, 2);
  assert.equal(restarted.hasReady(), true, 'the raised commit index is reported for persisting');
});

test('RawNode: proposals refused during a leadership transfer carry the reason', () => {
  const c = new TestCluster([1n, 2n, 3n]);
  c.get(1n).node.campaign();
  c.stabilize();
  c.isolate(3n);
  c.get(1n).node.propose(bytes('behind'));
  c.stabilize();
  c.get(1n).node.transferLeader(3n);
  assert.throws(
    () => c.get(1n).node.propose(bytes('x')),
    (e: unknown) => e instanceof ProposalDroppedError && e.reason === 'transfer-in-progress',
  );
  assert.throws(
    () => c.get(1n).node.transferLeader(9n),
    (e: unknown) => e instanceof ProposalDroppedError && e.reason === 'transferee-not-voter',
  );
  assert.equal(c.get(1n).node.basicStatus().leadTransferee, 3n);
});
