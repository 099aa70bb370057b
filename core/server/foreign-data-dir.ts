/**
 * Refuses a data dir that holds another server's files. `coracle` reads `ETCD_DATA_DIR` like
 * etcd does, and etcd's layout shares our names (`member/`, `member/wal/*.wal`), so a unit file
 * switched from etcd to Coracle would point it at etcd's data: opening it would fail on the WAL
 * only after the snapshot recovery had cleared `member/snap`, where etcd keeps its database.
 * A ZooKeeper dataDir is not ours either. Each is recognised by files Coracle never writes.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Throws, saying what the directory holds and what to do, when `dataDir` belongs to etcd or ZooKeeper. */
export function refuseForeignDataDir(dataDir: string): void {
  const snap = path.join(dataDir, 'member', 'snap');
  if (existsSync(path.join(snap, 'db')) || (existsSync(snap) && readdirSync(snap).some((n) => n.endsWith('.snap')))) {
    throw new Error(
      `data dir ${dataDir} holds an etcd member's data (member/snap/), which Coracle cannot read and must not change: ` +
      'give Coracle its own --data-dir, and copy the keys over from a running etcd (for instance with etcdctl make-mirror)',
    );
  }
  if (existsSync(path.join(dataDir, 'version-2'))) {
    throw new Error(
      `data dir ${dataDir} holds ZooKeeper's data (version-2/): give Coracle its own --data-dir, ` +
      'and copy the znodes over from a running ZooKeeper with coracle zk-migrate --from HOST:PORT',
    );
  }
}
