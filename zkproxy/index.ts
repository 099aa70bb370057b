/**
 * zkproxy's public surface (DESIGN §2: one index.ts per top-level package): start the
 * ZooKeeper front end over a backend, the `zk-proxy` subcommand, and the pieces `bin/` and the
 * tests compose (backends, decorators).
 */
export { startZkProxy } from './zk-proxy';
export type { ZkProxy, ZkProxyOptions } from './zk-proxy';
export { runZkProxyCommand } from './cli';
export { ZK_FLAGS, ZkFlagError, zkOptionsFromFlags, loadTls, parseHostPort } from './zk-flags';
export type { ZkFlagOptions, ZkFlagSpec, ZkFlagValues } from './zk-flags';
export type { ZkSecurePort, ZkTlsFlags, ZkTlsOptions } from './net/tls-port';
export { loadSaslOptions } from './session/sasl-authenticator';
export type { SaslOptions, SaslFlags } from './session/sasl-authenticator';
export type { KvBackend } from './backend/kv-backend';
export { RemoteBackend } from './backend/remote-backend';
export { MemoryBackend } from './backend/memory-backend';
export type { ZkHandler, ZkContext, ZkReply } from './dispatch/zk-handler';
export { ZkMetrics } from './dispatch/metrics-handler';
export type { FourLetterSource } from './net/four-letter-words';
export { CrossChecker } from './dispatch/crosscheck-handler';
export type { ZkLogger } from './logger';
export type { EtcdCredentialFlags } from './backend/etcd-credentials';
