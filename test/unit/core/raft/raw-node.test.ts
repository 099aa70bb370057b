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
