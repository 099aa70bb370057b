/**
 * Enumerations of the client protocol other than op and error codes: ACL permissions, create
 * modes, watch event types, keeper states, watcher types and add-watch modes
 * (ZooDefs, CreateMode, Watcher, AddWatchMode; zk-protocol.md §1.10, §1.12, §1.13).
 */

/** ACL permission bits (ZooDefs.Perms). */
export const Perms = {
  READ: 1,
  WRITE: 2,
  CREATE: 4,
  DELETE: 8,
  ADMIN: 16,
  ALL: 31,
} as const;

/** CreateMode flag values (CreateMode.fromFlag); any other value is BADARGUMENTS. */
export const CreateMode = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  PERSISTENT_SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
  CONTAINER: 4,
  PERSISTENT_WITH_TTL: 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL: 6,
} as const;

/** The decoded meaning of a create flag. */
export interface CreateModeInfo {
  ephemeral: boolean;
  sequential: boolean;
  container: boolean;
  ttl: boolean;
}

/** Decodes a create flag; undefined when the flag is not a valid CreateMode. */
export function createModeInfo(flags: number): CreateModeInfo | undefined {
  switch (flags) {
    case 0: return { ephemeral: false, sequential: false, container: false, ttl: false };
    case 1: return { ephemeral: true, sequential: false, container: false, ttl: false };
    case 2: return { ephemeral: false, sequential: true, container: false, ttl: false };
    case 3: return { ephemeral: true, sequential: true, container: false, ttl: false };
    case 4: return { ephemeral: false, sequential: false, container: true, ttl: false };
    case 5: return { ephemeral: false, sequential: false, container: false, ttl: true };
    case 6: return { ephemeral: false, sequential: true, container: false, ttl: true };
    default: return undefined;
  }
}

/** Watch event types (Watcher.Event.EventType); 5–7 and None are client-generated only. */
export const EventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7,
} as const;

/** Keeper states (Watcher.Event.KeeperState); server-pushed events always carry SyncConnected. */
export const KeeperState = {
  Unknown: -1,
  Disconnected: 0,
  NoSyncConnected: 1,
  SyncConnected: 3,
  AuthFailed: 4,
  ConnectedReadOnly: 5,
  SaslAuthenticated: 6,
  Expired: -112,
  Closed: 7,
} as const;

/** WatcherType of checkWatches/removeWatches (Watcher.WatcherType). */
export const WatcherType = {
  Children: 1,
  Data: 2,
  Any: 3,
  Persistent: 4,
  PersistentRecursive: 5,
} as const;

/** AddWatchMode of addWatch (106). */
export const AddWatchMode = {
  PERSISTENT: 0,
  PERSISTENT_RECURSIVE: 1,
} as const;

/** The largest TTL a TTL node may ask for, in ms (EphemeralType.TTL maxValue, 2^40 − 1). */
export const MAX_TTL_MS = 0xffffffffffn;
