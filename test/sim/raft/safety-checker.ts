/**
 * Safety properties of Raft (thesis §3.6, figure 3.2), checked continuously during a
 * simulation. Any violation throws {@link SimViolation}; the simulator adds the seed.
 *
 * - Election Safety: at most one leader per term.
 * - Log Matching: two logs with an entry of the same index and term agree on it and on
 *   everything before it (checked inductively: same (index, term) ⇒ same data and same term at
 *   index-1).
 * - Leader Completeness: a new leader's log holds every entry committed before it was elected.
 * - State Machine Safety: every node applies the same entry at each index (checked through a
 *   running hash of the applied sequence, so equal hashes at index i mean equal prefixes).
 * - Durability: a node restarting from its disk still has every entry it had applied.
 * - Linearizable reads: a ReadIndex answer is at least the highest index committed anywhere
 *   before the read was issued (thesis §6.4), so the read observes every acknowledged write.
 */
import type { Entry } from '../../../core/raft/types';

/** A broken safety property. */
export class SimViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimViolation';
  }
}

/** 32-bit FNV-1a over the bytes, continuing from `h`. */
export function fnv(h: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h;
}

/** Hash of one entry's identity-relevant content (type and data). */
export function entryHash(e: Entry): number {
  return fnv(fnv(0x811c9dc5, new Uint8Array([e.type])), e.data);
}

/** The state machine's running hash after applying `e` on top of `h`. */
export function chainHash(h: number, e: Entry): number {
  const idx = new Uint8Array(8);
  new DataView(idx.buffer).setFloat64(0, e.index);
  return fnv(fnv(h, idx), new Uint8Array([e.type, ...e.data]));
}

/** What a log-reading view of a leader must offer the completeness check. */
export interface LogView {
  firstIndex(): number;
  lastIndex(): number;
  termOrZero(i: number): number;
}

/** Records everything observed and throws on the first violation. */
export class SafetyChecker {
  /**
   * `checkReadFloor` false turns off the ReadIndex bound below (a test uses that to prove the
   * client-history linearizability check catches a broken ReadIndex on its own).
   */
  constructor(private readonly checkReadFloor = true) {}

  private leaders = new Map<number, bigint>();
  private entries = new Map<string, { hash: number; prevTerm: number | undefined }>();
  private applied = new Map<number, { term: number; hash: number }>();
  private reads = new Map<string, number>();
  private answered = new Set<string>();
  readsAnswered = 0;
  /** Highest index applied anywhere (hence committed). */
  maxCommitted = 0;
  leaderCount = 0;

  fail(msg: string): never {
    throw new SimViolation(msg);
  }

  /** Election Safety. Called whenever a node is seen as leader. */
  leader(id: bigint, term: number): void {
    const prev = this.leaders.get(term);
    if (prev === undefined) {
      this.leaders.set(term, id);
      this.leaderCount++;
    } else if (prev !== id) {
      this.fail(`election safety: nodes ${prev} and ${id} are both leader in term ${term}`);
    }
  }

  /** Log Matching, for entries a node just persisted; `prevTerm` of the first entry if known. */
  persisted(id: bigint, ents: Entry[], firstPrevTerm: number | undefined): void {
    let prevTerm = firstPrevTerm;
    for (const e of ents) {
      const key = `${e.index}/${e.term}`;
      const h = entryHash(e);
      const seen = this.entries.get(key);
      if (seen === undefined) {
        this.entries.set(key, { hash: h, prevTerm });
      } else {
        if (seen.hash !== h) this.fail(`log matching: node ${id} has a different entry at ${key}`);
        if (seen.prevTerm !== undefined && prevTerm !== undefined && seen.prevTerm !== prevTerm) {
          this.fail(`log matching: node ${id} has ${key} after term ${prevTerm}, another log after term ${seen.prevTerm}`);
        }
        if (seen.prevTerm === undefined) seen.prevTerm = prevTerm;
      }
      prevTerm = e.term;
    }
  }

  /** State Machine Safety: node `id` applied `e`, reaching running hash `hash`. */
  appliedEntry(id: bigint, e: Entry, hash: number): void {
    const seen = this.applied.get(e.index);
    if (seen === undefined) {
      this.applied.set(e.index, { term: e.term, hash });
      if (e.index > this.maxCommitted) this.maxCommitted = e.index;
    } else if (seen.term !== e.term || seen.hash !== hash) {
      this.fail(`state machine safety: node ${id} applied ${e.term}/${e.index} (hash ${hash}), another node applied ${seen.term}/${e.index} (hash ${seen.hash})`);
    }
  }

  /** A snapshot installed on node `id` must match what others applied at that index. */
  installedSnapshot(id: bigint, index: number, hash: number): void {
    const seen = this.applied.get(index);
    if (seen !== undefined && seen.hash !== hash) {
      this.fail(`state machine safety: node ${id} installed a snapshot at ${index} with hash ${hash}, expected ${seen.hash}`);
    }
  }

  /** Leader Completeness: the new leader of `term` holds every committed entry. */
  becameLeader(id: bigint, term: number, log: LogView): void {
    if (log.lastIndex() < this.maxCommitted) {
      this.fail(`leader completeness: leader ${id} of term ${term} has last index ${log.lastIndex()} < committed ${this.maxCommitted}`);
    }
    for (let i = Math.max(1, log.firstIndex()); i <= this.maxCommitted; i++) {
      const seen = this.applied.get(i);
      if (seen === undefined) continue;
      const t = log.termOrZero(i);
      if (t !== seen.term) this.fail(`leader completeness: leader ${id} of term ${term} has term ${t} at committed index ${i}, expected ${seen.term}`);
    }
  }

  /** A read with context `ctx` is issued now. */
  readIssued(ctx: string): void {
    this.reads.set(ctx, this.maxCommitted);
  }

  /**
   * A ReadState for `ctx` arrived on node `id`. A read may be answered more than once (the
   * network duplicates requests and answers); every answer must satisfy the bound.
   */
  readAnswered(id: bigint, ctx: string, index: number): void {
    const floor = this.reads.get(ctx);
    if (floor === undefined) this.fail(`read: node ${id} answered read ${ctx}, which was never issued`);
    if (this.checkReadFloor && index < floor) this.fail(`linearizability: read ${ctx} on node ${id} got index ${index} < ${floor} committed before it was issued`);
    if (!this.answered.has(ctx)) {
      this.answered.add(ctx);
      this.readsAnswered++;
    }
  }

  /** Durability: after a restart, the durable log must still reach the applied index. */
  restarted(id: bigint, applied: number, durableLast: number): void {
    if (applied > durableLast) {
      this.fail(`durability: node ${id} applied up to ${applied} but its disk only holds up to ${durableLast} after a crash`);
    }
  }
}
