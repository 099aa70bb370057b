/**
 * Kerberos' replay cache: an authenticator (client, time, microseconds) is accepted once. Entries
 * are kept for twice the clock skew, after which the authenticator's time alone rejects it.
 * Bounded: past `max` entries the oldest are dropped (a flood of fresh authenticators from
 * clients with valid tickets is the only way to grow it).
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();

  /**
   * @param keepMs how long an authenticator is remembered (2 × the allowed skew).
   * @param max most entries kept.
   */
  constructor(
    private readonly keepMs: number,
    private readonly max = 100_000,
  ) {}

  /** True the first time `key` is offered within the window; false for a replay. */
  firstSeen(key: string, now: number): boolean {
    this.expire(now);
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    this.seen.set(key, now + this.keepMs);
    if (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value!);
    return true;
  }

  /** Drops entries past their time; a Map iterates in insertion order, i.e. by expiry. */
  private expire(now: number): void {
    for (const [k, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(k);
    }
  }
}
