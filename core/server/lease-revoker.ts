/**
 * Lease expiry through the log (etcd.md §2.7): on the primary lessor only, expired leases are
 * revoked by proposals like any client's, at most {@link MAX_REVOKES_IN_FLIGHT} at a time (as
 * etcd), so a burst of expiries never floods the log.
 */
import { CoreError } from '../util/core-error';
import { Logger } from '../util/logger';
import { Lessor } from '../lease/lessor';

/** Revoke proposals in flight at once. */
export const MAX_REVOKES_IN_FLIGHT = 16;

/** Proposes revokes of the lessor's expired leases. */
export class LeaseRevoker {
  private readonly revoking = new Set<bigint>();

  constructor(
    private readonly lessor: Lessor,
    private readonly proposeRevoke: (id: bigint) => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  /** One pass: proposes revokes for expired leases not already being revoked (primary only). */
  revokeExpired(): void {
    if (!this.lessor.isPrimary) return;
    for (const id of this.lessor.expired(MAX_REVOKES_IN_FLIGHT - this.revoking.size)) {
      if (this.revoking.has(id)) continue;
      this.revoking.add(id);
      this.proposeRevoke(id)
        .catch((err) => {
          // Another member's revoke (or a client's) got there first: nothing to do.
          if (!(err instanceof CoreError && err.code === 'lease-not-found')) this.logger.warn({ err, lease: id.toString(16) }, 'lease revoke failed');
        })
        .finally(() => this.revoking.delete(id));
    }
  }
}
