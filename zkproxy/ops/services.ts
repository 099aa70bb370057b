/**
 * `ZkServices`: the proxy-wide parts every operation family works with, bundled so op files
 * take one argument. Built once per proxy by `zkproxy/index.ts`.
 */
import { KvBackend } from '../backend/kv-backend';
import { ZkLogger } from '../logger';
import { KeySchema } from '../mapping/key-schema';
import { ZnodeTree } from '../mapping/znode-tree';
import { SaslAuthenticator } from '../session/sasl-authenticator';
import { SessionTable } from '../session/session-table';
import { ReadOnlyMode } from '../session/read-only-mode';
import { ReadOnlySessions } from '../session/read-only-sessions';
import { ChangeFeed } from '../watch/change-feed';
import { WatchManager } from '../watch/watch-manager';
import { WriteRunner } from './write-runner';

/** Behaviour switches of the ZooKeeper semantics. */
export interface ZkSemantics {
  /** zookeeper.extendedTypesEnabled: allow TTL nodes (createTTL). */
  ttlEnabled: boolean;
  /** zookeeper.enforceQuota: creates and setData past a hard quota fail with QUOTAEXCEEDED. */
  enforceQuota?: boolean;
  /** zookeeper.DigestAuthenticationProvider.superDigest: "super:<base64 sha1>" or undefined. */
  superDigest?: string;
  /**
   * Notifications carry the zxid of the change that fired them, as ZooKeeper 3.9 sends
   * (ZOOKEEPER-4655); false: -1, as 3.8 and earlier do. Clients of every version accept both.
   */
  notificationZxid?: boolean;
}

/** The shared services. */
export interface ZkServices {
  backend: KvBackend;
  keys: KeySchema;
  feed: ChangeFeed;
  tree: ZnodeTree;
  watches: WatchManager;
  runner: WriteRunner;
  sessions: SessionTable;
  logger: ZkLogger;
  semantics: ZkSemantics;
  /** SASL (DIGEST-MD5) authentication; undefined when no SASL users are configured. */
  sasl?: SaslAuthenticator;
  /** Read-only mode (ZooKeeper's readonlymode.enabled); undefined when off. */
  readOnly?: { mode: ReadOnlyMode; sessions: ReadOnlySessions };
}
