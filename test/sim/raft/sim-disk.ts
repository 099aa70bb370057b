/**
 * A simulated disk for one raft node: what the node has written (visible through its
 * MemoryRaftStorage at once, as a page cache would be) and what is durable. Writes become
 * durable on fsync, or at random by background writeback; a crash discards whatever is not.
 */
import { MemoryRaftStorage } from '../../../core/raft/memory-raft-storage';
import { type Entry, type HardState, type Snapshot, emptyHardState } from '../../../core/raft/types';

/** One write, replayable on a fresh storage. */
type Write =
  | { kind: 'snapshot'; snap: Snapshot }
  | { kind: 'createSnapshot'; index: number; data: Uint8Array }
  | { kind: 'entries'; entries: Entry[] }
  | { kind: 'hardState'; hs: HardState }
  | { kind: 'compact'; index: number };

/** The durable image plus unsynced writes. */
export class SimDisk {
  /** Writes known durable, in order (compacted by `compact` writes as they replay). */
  private durable: Write[] = [];
  private pending: Write[] = [];
  /** The node's view: durable + pending. */
  storage: MemoryRaftStorage;

  constructor(private readonly initial: () => MemoryRaftStorage) {
    this.storage = initial();
  }

  private applyTo(s: MemoryRaftStorage, w: Write): void {
    switch (w.kind) {
      case 'snapshot':
        s.applySnapshot(w.snap);
        break;
      case 'createSnapshot':
        if (w.index > s.snapshot().metadata.index && w.index <= s.lastIndex()) {
          s.createSnapshot(w.index, s.initialState().confState, w.data);
        }
        break;
      case 'entries':
        s.append(w.entries);
        break;
      case 'hardState':
        s.setHardState(w.hs);
        break;
      case 'compact':
        if (w.index > s.firstIndex() - 1 && w.index <= s.lastIndex()) s.compact(w.index);
        break;
    }
  }

  /** Writes (visible now, durable after `sync`). */
  write(w: Write): void {
    this.applyTo(this.storage, w);
    this.pending.push(w);
  }

  writeSnapshot(snap: Snapshot): void {
    this.write({ kind: 'snapshot', snap });
  }

  writeEntries(entries: Entry[]): void {
    if (entries.length > 0) this.write({ kind: 'entries', entries });
  }

  writeHardState(hs: HardState): void {
    this.write({ kind: 'hardState', hs: { ...hs } });
  }

  /** Records a local snapshot and compaction (the application fsyncs its snapshot file). */
  snapshotAndCompact(snapIndex: number, data: Uint8Array, compactTo: number): void {
    this.sync();
    for (const w of [{ kind: 'createSnapshot', index: snapIndex, data }, { kind: 'compact', index: compactTo }] as Write[]) {
      this.applyTo(this.storage, w);
      this.durable.push(w);
    }
    this.pack();
  }

  /** fsync: everything written so far is durable. */
  sync(): void {
    for (const w of this.pending) this.durable.push(w);
    this.pending = [];
    this.pack();
  }

  /** Background writeback: a random prefix of the pending writes becomes durable. */
  writeback(count: number): void {
    const n = Math.min(count, this.pending.length);
    for (const w of this.pending.splice(0, n)) this.durable.push(w);
  }

  /** Power loss: unsynced writes vanish; the view is rebuilt from the durable image. */
  crash(): void {
    this.pending = [];
    this.storage = this.replay(this.durable);
  }

  /** The durable state's last index and hard state (for restart checks). */
  durableView(): MemoryRaftStorage {
    return this.replay(this.durable);
  }

  private replay(ws: Write[]): MemoryRaftStorage {
    const s = this.initial();
    for (const w of ws) {
      // A snapshot older than one already applied is skipped, as on a real restart.
      if (w.kind === 'snapshot' && w.snap.metadata.index <= s.snapshot().metadata.index) continue;
      this.applyTo(s, w);
    }
    return s;
  }

  /** Keeps the durable write list short by replacing it with an equivalent image. */
  private pack(): void {
    if (this.durable.length < 64) return;
    const s = this.replay(this.durable);
    const image: Write[] = [];
    const snap = s.snapshot();
    if (snap.metadata.index > 0) image.push({ kind: 'snapshot', snap });
    if (s.lastIndex() >= s.firstIndex()) image.push({ kind: 'entries', entries: s.entries(s.firstIndex(), s.lastIndex() + 1, Infinity) });
    const hs = s.initialState().hardState;
    if (hs.term !== emptyHardState().term || hs.vote !== 0n || hs.commit !== 0) image.push({ kind: 'hardState', hs });
    this.durable = image;
  }
}
