/**
 * Container and TTL znodes as ZooKeeper stores them. Its client protocol shows both with
 * ephemeralOwner 0, but its snapshots and logs keep the kind: in a snapshot the persisted
 * ephemeralOwner holds a marker (EphemeralType: Long.MIN_VALUE for a container; the top byte
 * 0xff, 16 reserved bits 0 and the TTL in the low 40 bits for a TTL znode), and in a log the
 * txn type is createContainer or createTTL.
 */

/** A container or TTL znode: one incarnation of `path`, told apart from others by its czxid. */
export interface SpecialNode {
  path: string;
  czxid: bigint;
  kind: 'container' | 'ttl';
  /** The TTL in ms (0 for a container). */
  ttl: bigint;
}

/** Tells which copied znodes are containers and TTL znodes (the source's files read as zk-image.ts). */
export interface NodeKindLookup {
  /** The container or TTL znode created at `czxid` under `path`; undefined for a plain znode or another incarnation. */
  kindOf(path: string, czxid: bigint): SpecialNode | undefined;
}

const CONTAINER_OWNER = -(1n << 63n);
const EXTENDED_MASK = 0xff00000000000000n;
const RESERVED_MASK = 0x00ffff0000000000n;
const VALUE_MASK = 0x000000ffffffffffn;

/** The persisted ephemeralOwner that marks a container, or a TTL znode of `ttl` ms (DataTree's createNode). */
export function ownerOfKind(kind: 'container' | 'ttl', ttl: bigint): bigint {
  return kind === 'container' ? CONTAINER_OWNER : BigInt.asIntN(64, EXTENDED_MASK | (ttl & VALUE_MASK));
}

/**
 * The kind a persisted ephemeralOwner marks, or undefined for a plain node or an ephemeral.
 * An owner with the extended top byte but other reserved bits is some later ZooKeeper's
 * extended type, not a TTL: it is left plain, as is a TTL of 0.
 */
export function specialKindOf(owner: bigint): { kind: 'container' | 'ttl'; ttl: bigint } | undefined {
  if (owner === CONTAINER_OWNER) return { kind: 'container', ttl: 0n };
  const u = BigInt.asUintN(64, owner);
  // A TTL of 0 cannot be created, and ZooKeeper's reaper skips one: it stays plain here.
  if ((u & EXTENDED_MASK) === EXTENDED_MASK && (u & RESERVED_MASK) === 0n && (u & VALUE_MASK) > 0n) return { kind: 'ttl', ttl: u & VALUE_MASK };
  return undefined;
}
