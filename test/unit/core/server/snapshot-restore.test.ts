/**
 * Snapshot status and restore on real LMDB files, without processes: a database holding an old
 * cluster's state (history, lease, auth, member table, alarm, Raft log and hard state) is saved
 * through the Maintenance/Snapshot stream writer, then
 * - status reports its revision, entry count and HashKV;
 * - restore keeps the keyspace and drops every trace of the old cluster, writing the new
 *   cluster's bootstrap byte-identical to what a first boot with the same flags writes, and the
 *   WAL is created from it through the normal open (applied index = number of members);
 * - a corrupt file, bad flags and an existing data dir are refused leaving nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LmdbBackend } from '../../../../core/storage/lmdb-backend';
import { ReadTxn } from '../../../../core/storage/backend';
import { DB, META, decodeIndex, decodeU64, encodeIndex, encodeRevisionKey, encodeU64 } from '../../../../core/storage/schema';
import { decodeHardState, encodeConfState, encodeEntry, encodeHardState } from '../../../../core/raft/codec';
import { EntryType, emptyConfState } from '../../../../core/raft/types';
import { MemberTable } from '../../../../core/cluster/member-table';
import { initialMembers, parseInitialCluster } from '../../../../core/cluster/initial-cluster';
import { hashKv } from '../../../../core/mvcc/hash';
import { nullLogger } from '../../../../core/util/logger';
import { sendSnapshot } from '../../../../core/server/services/snapshot-stream';
import { snapshotFileStatus } from '../../../../core/server/snapshot-status';
import { restoreSnapshot, RestoreError, RestoreOptions } from '../../../../core/server/snapshot-restore';
import { SnapshotFileError } from '../../../../core/server/snapshot-file';
import { loadOrBootIdentity } from '../../../../core/server/cluster-first-write';
import { RaftPersistence } from '../../../../core/server/raft-persistence';
import { MEMBER_DEFAULTS } from '../../../../core/server/member-config';
import { createTempDir, removeTempDir } from '../../../support/temp-dir';

const OLD_MEMBER = 0xaaaan;
const REVISION = 9;
/** Sub-databases the restore must keep as they were. */
const KEPT = [DB.kv, DB.lease, DB.authUsers, DB.authRoles];

/** A database of an old 2-member cluster at applied index 120. */
async function makeOldDb(dir: string): Promise<void> {
  const db = LmdbBackend.open({ path: dir, noSync: true });
  const table = new MemberTable();
  await db.write((txn) => {
    for (let rev = 2; rev <= REVISION; rev++) txn.put(DB.kv, encodeRevisionKey(rev, 0), Buffer.from(`record-${rev}`));
    txn.put(DB.lease, encodeU64(0x1234n), Buffer.from('lease-record'));
    txn.put(DB.authUsers, Buffer.from('root'), Buffer.from('user-record'));
    txn.put(DB.meta, META.currentRevision, encodeIndex(REVISION));
    txn.put(DB.meta, META.consistentIndex, encodeIndex(120));
    txn.put(DB.meta, META.consistentTerm, encodeIndex(7));
    txn.put(DB.meta, META.memberId, encodeU64(OLD_MEMBER));
    txn.put(DB.meta, META.clusterId, encodeU64(0xbbbbn));
    txn.put(DB.meta, META.raftHardState, Buffer.from(encodeHardState({ term: 7, vote: OLD_MEMBER, commit: 120 })));
    txn.put(DB.meta, META.raftConfState, Buffer.from(encodeConfState({ ...emptyConfState(), voters: [OLD_MEMBER, 0xccccn] })));
    txn.put(DB.meta, META.raftLogCompacted, Buffer.concat([encodeIndex(110), encodeIndex(7)]));
    txn.put(DB.raftLog, encodeIndex(120), Buffer.from(encodeEntry({ term: 7, index: 120, type: EntryType.Normal, data: new Uint8Array(3) })));
    table.put(txn, { id: OLD_MEMBER, name: 'old', peerUrls: ['http://old:2380'], clientUrls: ['http://old:2379'], isLearner: false });
    txn.put(DB.membersRemoved, encodeU64(0xddddn), Buffer.alloc(0));
    txn.put(DB.alarm, Buffer.concat([encodeU64(OLD_MEMBER), Buffer.from([1])]), Buffer.alloc(0));
  });
  await db.close();
}

/** Saves `dir`'s database as `etcdctl snapshot save` would store our stream: blobs, then the trailer. */
async function saveSnapshot(dir: string, file: string, scratch: string): Promise<void> {
  const db = LmdbBackend.open({ path: dir, noSync: true });
  const blobs: Buffer[] = [];
  try {
    const out = {
      write: (m: { blob: Uint8Array }) => blobs.push(Buffer.from(m.blob)) > 0,
      drain: async () => {},
      bufferedBytes: 0,
      ended: false,
      sendHeaders: () => {},
      end: () => {},
    };
    await sendSnapshot(db, scratch, out as never, { cancelled: false } as never);
  } finally {
    await db.close();
  }
  fs.writeFileSync(file, Buffer.concat(blobs));
}

function options(o: Partial<RestoreOptions> & { snapshotPath: string; dataDir: string }): RestoreOptions {
  return { name: 'default', initialCluster: '', initialClusterToken: 'etcd-cluster', peerUrls: ['http://localhost:2380'], skipHashCheck: false, logger: nullLogger, ...o };
}

function dump(txn: ReadTxn, db: string): Array<[string, string]> {
  return [...txn.iterate(db)].map((e) => [e.key.toString('hex'), e.value.toString('hex')]);
}

test('status, restore for a new 3-member cluster, refusals', async (t) => {
  const root = createTempDir('coracle-restore-unit-');
  try {
    const oldDir = path.join(root, 'old');
    const file = path.join(root, 'backup.db');
    await makeOldDb(oldDir);
    await saveSnapshot(oldDir, file, root);
    const old = LmdbBackend.open({ path: oldDir, noSync: true });
    const oldKept = old.read((txn) => KEPT.map((d) => dump(txn, d)));
    const oldHash = old.read((txn) => hashKv(txn, REVISION, 0) >>> 0);
    await old.close();

    await t.test('status: revision, every entry counted, HashKV at the revision', async () => {
      const st = await snapshotFileStatus(file, root);
      // 8 kv + lease + user + 8 meta + raft entry + member + removed + alarm
      assert.deepEqual({ ...st, totalSize: 0 }, { hash: oldHash, revision: REVISION, totalKey: 22, totalSize: 0 });
      assert.equal(st.totalSize, fs.statSync(file).size - 32);
    });

    await t.test('restore keeps the keyspace and boots a new cluster', async () => {
      const cluster = 'a=http://127.0.0.1:1,b=http://127.0.0.1:2,c=http://127.0.0.1:3';
      const dataDir = path.join(root, 'new-b');
      const res = await restoreSnapshot(options({ snapshotPath: file, dataDir, name: 'b', initialCluster: cluster, initialClusterToken: 'tok', peerUrls: ['http://127.0.0.1:2'] }));
      const want = initialMembers(parseInitialCluster(cluster, 'b', []), 'tok');
      assert.equal(res.clusterId, want.clusterId);
      assert.equal(res.memberId, want.members.find((m) => m.name === 'b')!.id);
      assert.equal(res.status.revision, REVISION);
      assert.deepEqual(fs.readdirSync(dataDir), ['member']);
      assert.deepEqual(fs.readdirSync(path.join(dataDir, 'member')), ['data.mdb']);
      assert.deepEqual(fs.readdirSync(root).filter((n) => n.includes('.restore-')), []);
      const db = LmdbBackend.open({ path: path.join(dataDir, 'member'), noSync: true });
      try {
        db.read((txn) => {
          assert.deepEqual(KEPT.map((d) => dump(txn, d)), oldKept, 'history, leases and auth kept');
          assert.equal(decodeIndex(txn.get(DB.meta, META.currentRevision)!), REVISION);
          assert.equal(decodeIndex(txn.get(DB.meta, META.consistentIndex)!), 3, 'applied index = the bootstrap entries');
          assert.equal(decodeU64(txn.get(DB.meta, META.memberId)!), res.memberId);
          assert.deepEqual(decodeHardState(txn.get(DB.meta, META.raftHardState)!), { term: 1, vote: 0n, commit: 3 });
          assert.equal(txn.get(DB.meta, META.raftLogCompacted), undefined);
          assert.deepEqual([...txn.iterate(DB.raftLog)].map((e) => decodeIndex(e.key)), [1, 2, 3]);
          const table = new MemberTable();
          table.load(txn);
          assert.deepEqual(table.list(), want.members);
          assert.deepEqual(dump(txn, DB.membersRemoved), []);
          assert.deepEqual(dump(txn, DB.alarm), []);
        });
      } finally {
        await db.close();
      }
    });

    await t.test('the bootstrap equals a first boot with the same flags, and opens through the WAL', async () => {
      const restored = path.join(root, 'restored-single');
      await restoreSnapshot(options({ snapshotPath: file, dataDir: restored }));
      const fresh = LmdbBackend.open({ path: path.join(root, 'fresh'), noSync: true });
      await loadOrBootIdentity({ ...MEMBER_DEFAULTS, name: 'default', dataDir: path.join(root, 'fresh'), logger: nullLogger }, fresh);
      const memberDir = path.join(restored, 'member');
      const db = LmdbBackend.open({ path: memberDir, noSync: true });
      try {
        const raftMeta = [META.raftHardState, META.raftConfState, META.consistentIndex, META.consistentTerm, META.memberId, META.clusterId];
        const view = (txn: ReadTxn) => ({ meta: raftMeta.map((k) => txn.get(DB.meta, k)?.toString('hex')), log: dump(txn, DB.raftLog), members: dump(txn, DB.members) });
        assert.deepEqual(db.read(view), fresh.read(view));
        const { persistence, loaded } = await RaftPersistence.open({ dir: memberDir, state: db, noSync: true, logger: nullLogger });
        assert.equal(loaded.appliedIndex, 1);
        assert.deepEqual(loaded.entries.map((e) => e.index), [1]);
        assert.equal(loaded.hardState?.commit, 1);
        await persistence.close();
      } finally {
        await db.close();
        await fresh.close();
      }
    });

    await t.test('refusals leave nothing behind', async () => {
      const corrupt = path.join(root, 'corrupt.db');
      const bytes = fs.readFileSync(file);
      bytes[100] ^= 0xff;
      fs.writeFileSync(corrupt, bytes);
      const target = path.join(root, 'never');
      await assert.rejects(restoreSnapshot(options({ snapshotPath: corrupt, dataDir: target })), (e: Error) => e instanceof SnapshotFileError && /integrity check failed/.test(e.message));
      await assert.rejects(snapshotFileStatus(corrupt, root), SnapshotFileError);
      await assert.rejects(restoreSnapshot(options({ snapshotPath: file, dataDir: target, name: 'x', initialCluster: 'y=http://127.0.0.1:1' })), /couldn't find local name "x"/);
      await assert.rejects(restoreSnapshot(options({ snapshotPath: file, dataDir: target, peerUrls: ['http://127.0.0.1:9'], initialCluster: 'default=http://127.0.0.1:8' })), /--initial-cluster must include/);
      assert.equal(fs.existsSync(target), false);
      await assert.rejects(restoreSnapshot(options({ snapshotPath: file, dataDir: path.join(root, 'restored-single') })), (e: Error) => e instanceof RestoreError && /^data-dir ".*restored-single" exists/.test(e.message));
      // The ones that got as far as staging cleaned it up.
      assert.deepEqual(fs.readdirSync(root).filter((n) => n.includes('.restore-')), []);
    });
  } finally {
    removeTempDir(root);
  }
});
