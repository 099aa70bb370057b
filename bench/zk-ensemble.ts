/**
 * The ZooKeeper 3.8 ensemble the cluster benchmark runs against. It lives in
 * test/support/zk-ensemble.ts, shared with the differential tests that need a real quorum
 * (read-only mode); this module keeps the benchmark's import path.
 */
export { startZkEnsemble, zkServerMode, type ZkEnsemble, type ZkEnsembleOptions } from '../test/support/zk-ensemble';
