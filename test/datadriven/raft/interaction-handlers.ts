/**
 * The commands of the raft interaction scripts. Each handler takes the parsed block and writes
 * its output into the environment. Commands:
 *
 *   add-nodes <n> voters=(..) learners=(..) index=<i> prevote= checkquorum= read-only=lease-based
 *             step-down-on-removal= disable-proposal-forwarding= max-size-per-msg= max-inflight=
 *             max-inflight-bytes= max-uncommitted-size= max-committed-size-per-ready=
 *   campaign <id> | propose <id> <data> | read-index <id> <ctx>
 *   propose-conf-change <id> [v1=true] [transition=auto|implicit|explicit]   (body: v2 l3 r1 u4)
 *   process-ready <ids..> | deliver-msgs [drop] <ids..> | stabilize [<ids..>]
 *   tick-election <id> | tick-heartbeat <id> | tick <id> [n=<k>]
 *   transfer-leadership from=<id> to=<id> | forget-leader <id>
 *   report-unreachable <from> <to> | report-snapshot <from> <to> [status=failure]
 *   isolate <id> | recover | restart <id> | compact <id> <index>
 *   raft-log <id> | raft-state | status <id> | log-level <debug|info|warn|error|none>
 *   set-randomized-election-timeout <id> timeout=<n>
 */
import { MemoryRaftStorage } from '../../../core/raft/memory-raft-storage';
import type { RaftConfig } from '../../../core/raft/config';
import { describeEntry, describeState } from '../../../core/raft/describe';
import { RaftError } from '../../../core/raft/errors';
import { PROGRESS_STATE_NAMES } from '../../../core/raft/tracker/progress';
import {
  type ConfChangeSingle,
  ConfChangeTransition,
  ConfChangeType,
  type ConfState,
  NONE,
  emptyConfState,
} from '../../../core/raft/types';
import { toHex } from '../../../core/util/bigint';
import { type Level, LEVELS } from './capture-logger';
import type { CmdArg, TestCase } from './datadriven';
import { InteractionEnv } from './interaction-env';

const encoder = new TextEncoder();

function positional(tc: TestCase): string[] {
  return tc.args.filter((a) => a.vals.length === 0 && !a.key.includes('=')).map((a) => a.key);
}

function ids(tc: TestCase): bigint[] {
  return positional(tc)
    .filter((k) => /^\d+$/.test(k))
    .map((k) => BigInt(k));
}

function arg(tc: TestCase, key: string): CmdArg | undefined {
  return tc.args.find((a) => a.key === key && a.vals.length > 0);
}

function intArg(tc: TestCase, key: string): number | undefined {
  const a = arg(tc, key);
  return a ? Number(a.vals[0]) : undefined;
}

function boolArg(tc: TestCase, key: string): boolean | undefined {
  const a = arg(tc, key);
  return a ? a.vals[0] === 'true' : undefined;
}

function firstId(tc: TestCase): bigint {
  const [id] = ids(tc);
  if (id === undefined) throw new Error(`${tc.pos}: ${tc.cmd} needs a node id`);
  return id;
}

/** Runs one block against `env` and returns its output. */
export function handle(env: InteractionEnv, tc: TestCase): string {
  try {
    dispatch(env, tc);
  } catch (e) {
    // Expected raft errors (dropped proposals, invalid conf changes) are part of the output.
    if (!(e instanceof RaftError)) throw e;
    env.write(`error: ${e.message}`);
  }
  return env.takeOutput();
}

function dispatch(env: InteractionEnv, tc: TestCase): void {
  switch (tc.cmd) {
    case 'add-nodes':
      return addNodes(env, tc);
    case 'campaign':
      return env.node(firstId(tc)).node.campaign();
    case 'propose':
      return env.node(firstId(tc)).node.propose(encoder.encode(positional(tc)[1] ?? ''));
    case 'read-index':
      return env.node(firstId(tc)).node.readIndex(encoder.encode(positional(tc)[1] ?? ''));
    case 'propose-conf-change':
      return proposeConfChange(env, tc);
    case 'process-ready':
      for (const id of ids(tc)) {
        if (ids(tc).length === 1) {
          env.processReady(id);
          continue;
        }
        env.write(`> ${id} handling Ready`);
        env.indented(() => env.processReady(id));
      }
      return;
    case 'deliver-msgs': {
      const drop = positional(tc).includes('drop');
      const targets = ids(tc).length > 0 ? ids(tc) : env.nodes.map((n) => n.id);
      let n = 0;
      for (const id of targets) n += env.deliverMsgs(id, drop);
      if (n === 0) env.write('no messages');
      return;
    }
    case 'stabilize':
      return env.stabilize(ids(tc).length > 0 ? ids(tc) : env.nodes.map((n) => n.id));
    case 'tick-election':
      return tick(env, firstId(tc), env.node(firstId(tc)).config.electionTick);
    case 'tick-heartbeat':
      return tick(env, firstId(tc), env.node(firstId(tc)).config.heartbeatTick);
    case 'tick':
      return tick(env, firstId(tc), intArg(tc, 'n') ?? 1);
    case 'transfer-leadership':
      return env.node(BigInt(intArg(tc, 'from')!)).node.transferLeader(BigInt(intArg(tc, 'to')!));
    case 'forget-leader':
      return env.node(firstId(tc)).node.forgetLeader();
    case 'report-unreachable': {
      const [from, to] = ids(tc);
      return env.node(from!).node.reportUnreachable(to!);
    }
    case 'report-snapshot': {
      const [from, to] = ids(tc);
      const failed = arg(tc, 'status')?.vals[0] === 'failure';
      return env.node(from!).node.reportSnapshot(to!, failed ? 'failure' : 'finish');
    }
    case 'isolate':
      env.isolated.add(firstId(tc));
      return;
    case 'recover':
      env.isolated.clear();
      return;
    case 'restart':
      return env.restart(firstId(tc));
    case 'compact': {
      const [id, index] = ids(tc);
      env.compact(id!, Number(index));
      return raftLog(env, id!);
    }
    case 'raft-log':
      return raftLog(env, firstId(tc));
    case 'raft-state':
      return raftState(env);
    case 'status':
      return status(env, firstId(tc));
    case 'log-level': {
      const level = positional(tc)[0] as Level;
      if (!LEVELS.includes(level)) throw new Error(`${tc.pos}: unknown level ${level}`);
      env.logger.level = level;
      return;
    }
    case 'set-randomized-election-timeout':
      env.node(firstId(tc)).node.raft.randomizedElectionTimeout = intArg(tc, 'timeout')!;
      return;
    default:
      throw new Error(`${tc.pos}: unknown command ${tc.cmd}`);
  }
}

function tick(env: InteractionEnv, id: bigint, n: number): void {
  for (let i = 0; i < n; i++) env.node(id).node.tick();
}

function idList(tc: TestCase, key: string): bigint[] {
  return (arg(tc, key)?.vals ?? []).map((v) => BigInt(v));
}

function addNodes(env: InteractionEnv, tc: TestCase): void {
  const n = Number(positional(tc)[0]);
  const cs: ConfState = { ...emptyConfState(), voters: idList(tc, 'voters'), learners: idList(tc, 'learners') };
  const index = intArg(tc, 'index') ?? 0;
  const overrides: Partial<RaftConfig> = {};
  const set = <K extends keyof RaftConfig>(k: K, v: RaftConfig[K] | undefined): void => {
    if (v !== undefined) overrides[k] = v;
  };
  set('preVote', boolArg(tc, 'prevote'));
  set('checkQuorum', boolArg(tc, 'checkquorum'));
  set('stepDownOnRemoval', boolArg(tc, 'step-down-on-removal'));
  set('disableProposalForwarding', boolArg(tc, 'disable-proposal-forwarding'));
  set('maxSizePerMsg', intArg(tc, 'max-size-per-msg'));
  set('maxInflightMsgs', intArg(tc, 'max-inflight'));
  set('maxInflightBytes', intArg(tc, 'max-inflight-bytes'));
  set('maxUncommittedEntriesSize', intArg(tc, 'max-uncommitted-size'));
  set('maxCommittedSizePerReady', intArg(tc, 'max-committed-size-per-ready'));
  set('electionTick', intArg(tc, 'election-tick'));
  if (arg(tc, 'read-only')?.vals[0] === 'lease-based') overrides.readOnlyOption = 'lease-based';
  for (let i = 0; i < n; i++) {
    const storage = new MemoryRaftStorage();
    if (index > 0) {
      storage.applySnapshot({ data: new Uint8Array(0), metadata: { index, term: 1, confState: cs } });
      storage.setHardState({ term: 1, vote: NONE, commit: index });
    }
    env.addNode(storage, overrides, cs, index);
  }
}

function proposeConfChange(env: InteractionEnv, tc: TestCase): void {
  const changes: ConfChangeSingle[] = [];
  const kinds: Record<string, ConfChangeType> = {
    v: ConfChangeType.AddNode,
    l: ConfChangeType.AddLearnerNode,
    r: ConfChangeType.RemoveNode,
    u: ConfChangeType.UpdateNode,
  };
  for (const tok of tc.input.split(/\s+/).filter((t) => t !== '')) {
    const type = kinds[tok[0]!];
    if (type === undefined) throw new Error(`${tc.pos}: bad conf change ${tok}`);
    changes.push({ type, nodeId: BigInt(tok.slice(1)) });
  }
  const node = env.node(firstId(tc)).node;
  if (boolArg(tc, 'v1')) {
    if (changes.length !== 1) throw new Error(`${tc.pos}: v1 takes exactly one change`);
    node.proposeConfChange({ id: 0n, type: changes[0]!.type, nodeId: changes[0]!.nodeId, context: new Uint8Array(0) });
    return;
  }
  const t = arg(tc, 'transition')?.vals[0] ?? 'auto';
  const transition =
    t === 'implicit' ? ConfChangeTransition.JointImplicit : t === 'explicit' ? ConfChangeTransition.JointExplicit : ConfChangeTransition.Auto;
  node.proposeConfChange({ transition, changes, context: new Uint8Array(0) });
}

function raftLog(env: InteractionEnv, id: bigint): void {
  const s = env.node(id).storage;
  if (s.lastIndex() < s.firstIndex()) {
    env.write(`log is empty: first index=${s.firstIndex()}, last index=${s.lastIndex()}`);
    return;
  }
  for (const e of s.entries(s.firstIndex(), s.lastIndex() + 1, Number.POSITIVE_INFINITY)) env.write(describeEntry(e));
}

function raftState(env: InteractionEnv): void {
  for (const n of env.nodes) {
    const st = n.node.status();
    const role = st.confState.voters.includes(n.id) || st.confState.votersOutgoing.includes(n.id) ? 'Voter' : 'Non-Voter';
    env.write(`${n.id}: ${describeState(st.raftState)} (${role}) Term:${st.term} Lead:${toHex(st.lead)}`);
  }
}

function status(env: InteractionEnv, id: bigint): void {
  const st = env.node(id).node.status();
  env.write(`config: ${st.config}`);
  for (const [pid, pr] of st.progress) {
    let line = `${pid}: ${PROGRESS_STATE_NAMES[pr.state]} match=${pr.match} next=${pr.next}`;
    if (pr.isLearner) line += ' learner';
    if (pr.paused) line += ' paused';
    if (pr.pendingSnapshot > 0) line += ` pendingSnap=${pr.pendingSnapshot}`;
    if (pr.inflight > 0) line += ` inflight=${pr.inflight}`;
    env.write(line);
  }
}
