/**
 * The public surface of core/raft: an I/O-free Raft state machine after etcd-io/raft. The
 * driver creates a {@link RawNode} over a {@link RaftStorage} (e.g. {@link MemoryRaftStorage})
 * and runs the Ready loop documented on {@link Ready}.
 */
export * from './types';
export * from './errors';
export type { RaftStorage, InitialState } from './storage';
export { NO_LIMIT } from './storage';
export { MemoryRaftStorage } from './memory-raft-storage';
export type { RaftConfig } from './config';
export type { ReadOnlyOption } from './read-only';
export type { Ready } from './ready';
export { mustSync, isEmptyReady } from './ready';
export type { Status, BasicStatus, ProgressStatus } from './status';
export { ProgressState } from './tracker/progress';
export { RawNode, InvalidMessageError, type SnapshotStatus } from './raw-node';
export { entrySize, payloadSize } from './entry-size';
export * from './codec';
export {
  describeEntry,
  describeEntries,
  describeMessage,
  describeReady,
  describeHardState,
  describeSnapshot,
  describeConfState,
  describeState,
} from './describe';
