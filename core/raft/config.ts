/**
 * Configuration of one raft node (etcd-io/raft `Config`), validated at construction: a bad
 * configuration is a {@link RaftConfigError}, not an assertion, because it comes from flags and
 * files the operator wrote.
 */
import type { Logger } from '../util/logger';
import { nullLogger } from '../util/logger';
import type { Rand } from '../util/rand';
import { RaftConfigError } from './errors';
import type { ReadOnlyOption } from './read-only';
import { NO_LIMIT, type RaftStorage } from './storage';
import { NONE } from './types';

/** Parameters of a raft node. */
export interface RaftConfig {
  /** This node's id: non-zero, unique in the group, never reused (etcd member ids are random u64). */
  id: bigint;
  /**
   * Ticks without hearing from a leader before a follower campaigns. The actual timeout is
   * randomized in [electionTick, 2·electionTick) (Raft thesis §3.4). Must exceed heartbeatTick;
   * etcd uses 10 × heartbeatTick.
   */
  electionTick: number;
  /** Ticks between leader heartbeats. */
  heartbeatTick: number;
  /** The durable log; on restart it must hold what the node had persisted. */
  storage: RaftStorage;
  /**
   * The last applied index, when restarting with state already applied. Committed entries up
   * to here are not handed out again. It may exceed the saved commit index (a commit-only
   * HardState write is not synced) but never the durable log's last index.
   */
  applied?: number;
  /**
   * Max encoded bytes of entries in one MsgApp (at least one entry is always sent). 0 means one
   * entry per message; use Infinity for no limit.
   */
  maxSizePerMsg: number;
  /** Max encoded bytes of committed entries in one Ready; defaults to maxSizePerMsg. */
  maxCommittedSizePerReady?: number;
  /**
   * Max payload bytes of uncommitted entries on the leader; proposals beyond are dropped
   * (ProposalDroppedError 'uncommitted-size-limit'). 0 means no limit.
   */
  maxUncommittedEntriesSize: number;
  /** Max in-flight MsgApps per follower in Replicate state (> 0). */
  maxInflightMsgs: number;
  /** Max in-flight payload bytes per follower; 0/undefined means no limit; else ≥ maxSizePerMsg. */
  maxInflightBytes?: number;
  /** The leader steps down when it has not heard from a quorum for an election timeout. */
  checkQuorum: boolean;
  /** Run the PreVote phase before campaigning (Raft thesis §9.6). */
  preVote: boolean;
  /** 'safe' (a heartbeat round per read batch) or 'lease-based' (needs checkQuorum). */
  readOnlyOption: ReadOnlyOption;
  /** Followers drop proposals instead of forwarding them to the leader. */
  disableProposalForwarding?: boolean;
  /** A leader removed from (or demoted in) the configuration steps down when it applies that. */
  stepDownOnRemoval?: boolean;
  /** Randomness for the election timeout; inject a seeded generator for determinism. */
  rand: Rand;
  logger?: Logger;
}

/** A {@link RaftConfig} with defaults filled in, as the state machine uses it. */
export interface ValidatedConfig {
  id: bigint;
  electionTick: number;
  heartbeatTick: number;
  storage: RaftStorage;
  applied: number;
  maxSizePerMsg: number;
  maxCommittedSizePerReady: number;
  maxUncommittedEntriesSize: number;
  maxInflightMsgs: number;
  maxInflightBytes: number;
  checkQuorum: boolean;
  preVote: boolean;
  readOnlyOption: ReadOnlyOption;
  disableProposalForwarding: boolean;
  stepDownOnRemoval: boolean;
  rand: Rand;
  logger: Logger;
}

function positiveInt(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v <= 0) throw new RaftConfigError(`${name} must be a positive integer, got ${v}`);
}

function sizeLimit(name: string, v: number): void {
  if (!(v === NO_LIMIT || (Number.isSafeInteger(v) && v >= 0))) {
    throw new RaftConfigError(`${name} must be a non-negative integer or Infinity, got ${v}`);
  }
}

/** Checks `c` and fills in defaults. Throws {@link RaftConfigError} describing the first problem. */
export function validateConfig(c: RaftConfig): ValidatedConfig {
  if (typeof c.id !== 'bigint' || c.id === NONE) throw new RaftConfigError('cannot use none as id');
  if (c.id < 0n || c.id > 0xffff_ffff_ffff_ffffn) throw new RaftConfigError(`id ${c.id} is not an unsigned 64-bit value`);
  positiveInt('heartbeatTick', c.heartbeatTick);
  positiveInt('electionTick', c.electionTick);
  if (c.electionTick <= c.heartbeatTick) throw new RaftConfigError('election tick must be greater than heartbeat tick');
  if (!c.storage) throw new RaftConfigError('storage cannot be nil');
  if (!c.rand) throw new RaftConfigError('rand cannot be nil');
  sizeLimit('maxSizePerMsg', c.maxSizePerMsg);
  sizeLimit('maxUncommittedEntriesSize', c.maxUncommittedEntriesSize);
  const maxCommitted = c.maxCommittedSizePerReady ?? 0;
  sizeLimit('maxCommittedSizePerReady', maxCommitted);
  positiveInt('maxInflightMsgs', c.maxInflightMsgs);
  const maxInflightBytes = c.maxInflightBytes ?? 0;
  sizeLimit('maxInflightBytes', maxInflightBytes);
  if (maxInflightBytes !== 0 && maxInflightBytes !== NO_LIMIT && maxInflightBytes < c.maxSizePerMsg) {
    throw new RaftConfigError('max inflight bytes must be >= max message size');
  }
  const applied = c.applied ?? 0;
  if (!Number.isSafeInteger(applied) || applied < 0) throw new RaftConfigError(`applied must be ≥ 0, got ${applied}`);
  if (c.readOnlyOption !== 'safe' && c.readOnlyOption !== 'lease-based') {
    throw new RaftConfigError(`unknown readOnlyOption ${String(c.readOnlyOption)}`);
  }
  if (c.readOnlyOption === 'lease-based' && !c.checkQuorum) {
    throw new RaftConfigError('CheckQuorum must be enabled when ReadOnlyOption is lease-based');
  }
  return {
    id: c.id,
    electionTick: c.electionTick,
    heartbeatTick: c.heartbeatTick,
    storage: c.storage,
    applied,
    maxSizePerMsg: c.maxSizePerMsg,
    // Defaults to maxSizePerMsg: they used to be one parameter in etcd-io/raft.
    maxCommittedSizePerReady: maxCommitted === 0 ? c.maxSizePerMsg : maxCommitted,
    maxUncommittedEntriesSize: c.maxUncommittedEntriesSize === 0 ? NO_LIMIT : c.maxUncommittedEntriesSize,
    maxInflightMsgs: c.maxInflightMsgs,
    maxInflightBytes: maxInflightBytes === NO_LIMIT ? 0 : maxInflightBytes,
    checkQuorum: c.checkQuorum,
    preVote: c.preVote,
    readOnlyOption: c.readOnlyOption,
    disableProposalForwarding: c.disableProposalForwarding ?? false,
    stepDownOnRemoval: c.stepDownOnRemoval ?? false,
    rand: c.rand,
    logger: c.logger ?? nullLogger,
  };
}
