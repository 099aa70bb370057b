/**
 * A member's Raft snapshot machinery, wired once: the policy that turns durable applies into WAL
 * snapshot markers, the sender that streams the applied state to a follower behind the log, the
 * receiver that takes the leader's stream, and the installer that swaps a received database in.
 * The member owns one and asks it for its counters; the parts keep their own contracts
 * (raft-snapshot-compactor.ts, snapshot-sender.ts, snapshot-receiver.ts, snapshot-installer.ts).
 */
import { Logger } from '../util/logger';
import { MemoryRaftStorage } from '../raft/memory-raft-storage';
import { SnapshotStatus } from '../raft/raw-node';
import { RaftPersistence } from './raft-persistence';
import { RaftSnapshotCompactor, SNAPSHOT_CATCH_UP_ENTRIES_DEFAULT, SNAPSHOT_COUNT_DEFAULT } from './raft-snapshot-compactor';
import { SnapshotBackendSlot } from './snapshot-backend-slot';
import { SnapshotSender } from './snapshot-sender';
import { SnapshotReceiver } from './snapshot-receiver';
import { SnapshotHeader } from './snapshot-stream';
import { SnapshotInstaller } from './snapshot-installer';

/** What {@link MemberSnapshots} needs from its member. */
export interface MemberSnapshotsOptions {
  /** The member directory (`<data-dir>/member`). */
  memberDir: string;
  localId: bigint;
  clusterId: bigint;
  /** Entries between snapshot markers (0 or undefined: the default, as in etcd). */
  snapshotCount: number | undefined;
  /** Entries kept behind a marker for slow followers (undefined: the default). */
  catchUpEntries: number | undefined;
  /** --unsafe-no-fsync. */
  noSync: boolean;
  /** Raft's in-memory log, compacted at each marker. */
  storage: MemoryRaftStorage;
  /** Writes the markers and reports durable applies. */
  persistence: RaftPersistence;
  /** The slot under the write buffer that an install swaps. */
  slot: SnapshotBackendSlot;
  /** The peer URLs of member `id`. */
  urlsOf(id: bigint): string[] | undefined;
  /** Tells Raft how a transfer to a follower ended. */
  report(id: bigint, status: SnapshotStatus): void;
  /** A received snapshot is durable in `snap/`: step it into Raft. */
  deliver(header: SnapshotHeader): void;
  /** Resolves when nothing else writes to the backend. */
  quiesce(): Promise<void>;
  /** Rebuilds the in-memory state from the swapped-in backend. */
  rebuild(): void;
  logger: Logger;
}

/** The counters `Member.raftLogStatus` reports. */
export interface SnapshotCounts {
  snapshotsTaken: number;
  snapshotsSent: number;
  snapshotsReceived: number;
  snapshotsInstalled: number;
}

/** The four snapshot parts of one member. */
export class MemberSnapshots {
  readonly compactor: RaftSnapshotCompactor;
  readonly sender: SnapshotSender;
  /** Receives the leader's snapshots (the peer server hands it `POST /raft/snapshot`). */
  readonly receiver: SnapshotReceiver;
  readonly installer: SnapshotInstaller;

  /** Builds the parts and subscribes the marker policy to the persister's durable applies. */
  constructor(o: MemberSnapshotsOptions) {
    const backend = o.persistence.backend;
    const snapDir = o.memberDir + '/snap';
    this.compactor = new RaftSnapshotCompactor({
      storage: o.storage,
      sink: o.persistence,
      snapshotCount: o.snapshotCount || SNAPSHOT_COUNT_DEFAULT,
      catchUpEntries: o.catchUpEntries ?? SNAPSHOT_CATCH_UP_ENTRIES_DEFAULT,
      logger: o.logger.child({ component: 'raft-snapshot' }),
    });
    o.persistence.onStateDurable((st) => this.compactor.onStateDurable(st));
    this.sender = new SnapshotSender({
      dir: snapDir, localId: o.localId, clusterId: o.clusterId, backend, urlsOf: o.urlsOf, report: o.report,
      logger: o.logger.child({ component: 'snapshot-sender' }),
    });
    this.receiver = new SnapshotReceiver({
      dir: snapDir, localId: o.localId, clusterId: o.clusterId, deliver: o.deliver,
      logger: o.logger.child({ component: 'snapshot-receiver' }),
    });
    this.installer = new SnapshotInstaller({
      memberDir: o.memberDir, slot: o.slot, buffer: backend, quiesce: o.quiesce, rebuild: o.rebuild, noSync: o.noSync,
      logger: o.logger.child({ component: 'snapshot-installer' }),
    });
  }

  /** Snapshots taken, sent, received and installed by this process. */
  counts(): SnapshotCounts {
    return {
      snapshotsTaken: this.compactor.snapshotsTaken,
      snapshotsSent: this.sender.sent,
      snapshotsReceived: this.receiver.received,
      snapshotsInstalled: this.installer.installed,
    };
  }

  /** Stops sending (transfers in flight end; no retry is scheduled). */
  close(): void {
    this.sender.close();
  }
}
