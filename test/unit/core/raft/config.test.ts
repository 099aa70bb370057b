import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig, type RaftConfig } from '../../../../core/raft/config';
import { RaftConfigError } from '../../../../core/raft/errors';
import { MemoryRaftStorage } from '../../../../core/raft/memory-raft-storage';
import { SeededRand } from '../../../../core/util/rand';

function base(): RaftConfig {
  return {
    id: 1n,
    electionTick: 10,
    heartbeatTick: 1,
    storage: new MemoryRaftStorage(),
    maxSizePerMsg: 1024,
    maxUncommittedEntriesSize: 0,
    maxInflightMsgs: 16,
    checkQuorum: false,
    preVote: false,
    readOnlyOption: 'safe',
    rand: new SeededRand(1),
  };
}

test('validateConfig rejects bad configurations', () => {
  const cases: Array<{ name: string; patch: Partial<RaftConfig>; msg: RegExp }> = [
    { name: 'zero id', patch: { id: 0n }, msg: /none as id/ },
    { name: 'id beyond u64', patch: { id: 1n << 64n }, msg: /64-bit/ },
    { name: 'heartbeat 0', patch: { heartbeatTick: 0 }, msg: /heartbeatTick/ },
    { name: 'election ≤ heartbeat', patch: { electionTick: 1, heartbeatTick: 1 }, msg: /election tick/ },
    { name: 'fractional election tick', patch: { electionTick: 2.5 }, msg: /electionTick/ },
    { name: 'no inflight', patch: { maxInflightMsgs: 0 }, msg: /maxInflightMsgs/ },
    { name: 'inflight bytes below message size', patch: { maxInflightBytes: 10 }, msg: /inflight bytes/ },
    { name: 'lease-based without checkQuorum', patch: { readOnlyOption: 'lease-based' }, msg: /CheckQuorum/ },
    { name: 'negative applied', patch: { applied: -1 }, msg: /applied/ },
  ];
  for (const c of cases) {
    assert.throws(() => validateConfig({ ...base(), ...c.patch }), (e: unknown) => e instanceof RaftConfigError && c.msg.test(e.message), c.name);
  }
});

test('validateConfig fills defaults', () => {
  const v = validateConfig(base());
  assert.equal(v.maxCommittedSizePerReady, 1024, 'defaults to maxSizePerMsg');
  assert.equal(v.maxUncommittedEntriesSize, Infinity, '0 means unlimited');
  assert.equal(v.maxInflightBytes, 0);
  assert.equal(v.applied, 0);
  assert.equal(v.stepDownOnRemoval, false);
});
