/**
 * Time as an injected dependency. Code that needs time takes a {@link Clock}, so a simulation
 * can drive it and a test can own it (TigerBeetle style; etcd's lessor reading the wall clock
 * directly is the example not to follow).
 */

/** A source of time. */
export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. Never goes backwards. */
  nowMs(): number;
  /** Wall-clock milliseconds since the Unix epoch (for user-visible timestamps such as ZooKeeper ctime). */
  wallMs(): number;
}

/** The real clock: `performance.now()` for monotonic time, `Date.now()` for wall time. */
export class SystemClock implements Clock {
  nowMs(): number {
    return performance.now();
  }
  wallMs(): number {
    return Date.now();
  }
}

/** A clock that moves only when told to; for tests and the simulator. */
export class ManualClock implements Clock {
  private monotonic: number;
  private wall: number;

  constructor(startWallMs = 1_700_000_000_000) {
    this.monotonic = 0;
    this.wall = startWallMs;
  }
  nowMs(): number {
    return this.monotonic;
  }
  wallMs(): number {
    return this.wall;
  }
  /** Moves both clocks forward by `ms` (must be ≥ 0). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`clock cannot move backwards by ${ms}`);
    this.monotonic += ms;
    this.wall += ms;
  }
}
