/**
 * `ZkError`: a ZooKeeper error code raised by an operation, and THE one table from domain
 * errors (the backend's {@link KvError} codes, codec errors) to ZooKeeper codes (DESIGN §4).
 * Operations throw `ZkError`; the dispatcher turns any thrown value into a reply code through
 * {@link toZkCode} and nothing else.
 */
import { JuteDecodeError, ZkErr, errName } from '../../protocol/jute';
import { KvError, KvErrorCode } from '../backend/kv-backend';

/**
 * An operation failed with ZooKeeper error `code`. It carries no stack frames: it is an answer,
 * not a fault (NONODE from an exists watch on a missing node, NODEEXISTS, BADVERSION in a CAS
 * loop are everyday replies), and capturing V8's ten frames cost ≈ 6.5 µs per failed request,
 * more than the rest of a read. Faults keep their own errors and stacks.
 */
export class ZkError extends Error {
  constructor(
    readonly code: number,
    detail?: string,
  ) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(detail ? `${errName(code)}: ${detail}` : errName(code));
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'ZkError';
  }
}

/** Shorthand for `throw new ZkError(code)`. */
export function fail(code: number, detail?: string): never {
  throw new ZkError(code, detail);
}

/**
 * The backend error → ZooKeeper code table. A vanished lease means the session is gone; limits
 * of the store are bad arguments from the client's view; unavailability is a connection loss
 * (the client retries elsewhere); anything else is a system error.
 */
const KV_TO_ZK: Record<KvErrorCode, number> = {
  'compacted': ZkErr.SYSTEMERROR,
  'future-revision': ZkErr.SYSTEMERROR,
  'lease-not-found': ZkErr.SESSIONEXPIRED,
  'lease-exists': ZkErr.SYSTEMERROR,
  'too-large': ZkErr.BADARGUMENTS,
  'too-many-ops': ZkErr.BADARGUMENTS,
  'duplicate-key': ZkErr.BADARGUMENTS,
  'invalid-argument': ZkErr.BADARGUMENTS,
  'unavailable': ZkErr.CONNECTIONLOSS,
  // The proxy's own credentials, not the client's: a retry may find them fixed.
  'refused': ZkErr.CONNECTIONLOSS,
  'no-space': ZkErr.QUOTAEXCEEDED,
  'closed': ZkErr.CONNECTIONLOSS,
  'internal': ZkErr.SYSTEMERROR,
};

/** The ZooKeeper code for any thrown value (ZkError, KvError, JuteDecodeError, or a bug). */
export function toZkCode(e: unknown): number {
  if (e instanceof ZkError) return e.code;
  if (e instanceof KvError) return KV_TO_ZK[e.code] ?? ZkErr.SYSTEMERROR;
  if (e instanceof JuteDecodeError) return ZkErr.MARSHALLINGERROR;
  return ZkErr.SYSTEMERROR;
}
