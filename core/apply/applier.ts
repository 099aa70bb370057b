/**
 * The deterministic applier of committed log entries. Given the same state and the same entry,
 * every member produces the same writes and the same result. It runs inside the driver's backend
 * write transaction; it records the applied (consistent) index in that same transaction so
 * replaying the log after a crash skips exactly what is already applied (etcd #13766).
 *
 * Expected failures (lease not found, compacted, …) come back as `error` with no state change:
 * validation runs before any mutation. Anything else thrown is a bug and aborts the transaction.
 */
import { WriteTxn } from '../storage/backend';
import { DB, META, encodeIndex } from '../storage/schema';
import { CoreError, isCoreError } from '../util/core-error';
import { KvStore } from '../mvcc/kv-store';
import { KvEvent, PutResult, DeleteRangeResult, TxnResult, txnWrites } from '../mvcc/kv-types';
import { runTxn } from '../mvcc/txn-runner';
import { Lessor } from '../lease/lessor';
import { AlarmAction, AlarmType, ApplyBody, ApplyRequest } from './apply-request';
import { AlarmMember, AlarmStore } from './alarm-store';

/** The result of applying one entry. */
export type ApplyResultBody =
  | { type: 'put'; put: PutResult }
  | { type: 'deleteRange'; deleteRange: DeleteRangeResult }
  | { type: 'txn'; txn: TxnResult }
  | { type: 'compaction' }
  | { type: 'leaseGrant'; id: bigint; ttl: number }
  | { type: 'leaseRevoke' }
  | { type: 'leaseCheckpoint' }
  | { type: 'alarm'; alarms: AlarmMember[] }
  | { type: 'memberAttr' };

/** What applying an entry produced. */
export interface ApplyOutcome {
  /** Store revision after the entry (the response header's revision). */
  revision: number;
  result?: ApplyResultBody;
  error?: CoreError;
  /** Changes for the watch hub, in order (empty if nothing changed). */
  events: KvEvent[];
  /** A compaction scheduled by this entry (the driver finishes it once durable). */
  compaction?: { revision: number; physical: boolean };
}

/** The applier. */
export class Applier {
  constructor(
    private readonly kv: KvStore,
    private readonly lessor: Lessor,
    private readonly alarms: AlarmStore,
  ) {}

  /** Applies one request inside `txn`. */
  apply(txn: WriteTxn, req: ApplyRequest): ApplyOutcome {
    try {
      return this.applyBody(txn, req.body);
    } catch (err) {
      if (!isCoreError(err)) throw err;
      return { revision: this.kv.currentRevision, error: err, events: [] };
    }
  }

  /** Records the index and term of the last applied entry in the same transaction. */
  setConsistentIndex(txn: WriteTxn, index: number, term: number): void {
    txn.put(DB.meta, META.consistentIndex, encodeIndex(index));
    txn.put(DB.meta, META.consistentTerm, encodeIndex(term));
  }

  private applyBody(txn: WriteTxn, body: ApplyBody): ApplyOutcome {
    switch (body.type) {
      case 'put': {
        this.checkSpace();
        const w = this.kv.beginWrite(txn, this.lessor);
        // etcd 3.4 looks a lone Put's lease up before it opens the write, so a missing lease is
        // named before a missing key (inside a Txn it is the other way round).
        w.checkLease(body.put.lease);
        w.checkPut(body.put);
        const put = w.put(body.put);
        return { revision: this.kv.endWrite(w), result: { type: 'put', put }, events: w.events };
      }
      case 'deleteRange': {
        const w = this.kv.beginWrite(txn, this.lessor);
        const deleteRange = w.deleteRange(body.deleteRange);
        return { revision: this.kv.endWrite(w), result: { type: 'deleteRange', deleteRange }, events: w.events };
      }
      case 'txn': {
        if (txnWrites(body.txn)) this.checkSpace();
        const w = this.kv.beginWrite(txn, this.lessor);
        const result = runTxn(w, body.txn);
        return { revision: this.kv.endWrite(w), result: { type: 'txn', txn: result }, events: w.events };
      }
      case 'compaction': {
        this.kv.checkCompact(body.revision);
        this.kv.scheduleCompact(txn, body.revision);
        return { revision: this.kv.currentRevision, result: { type: 'compaction' }, events: [], compaction: { revision: body.revision, physical: body.physical } };
      }
      case 'leaseGrant': {
        this.checkSpace();
        const ttl = this.lessor.grant(txn, body.id, body.ttl);
        return { revision: this.kv.currentRevision, result: { type: 'leaseGrant', id: body.id, ttl }, events: [] };
      }
      case 'leaseRevoke':
        return this.revoke(txn, body.id);
      case 'leaseCheckpoint':
        this.lessor.checkpoint(txn, body.checkpoints);
        return { revision: this.kv.currentRevision, result: { type: 'leaseCheckpoint' }, events: [] };
      case 'alarm':
        return { revision: this.kv.currentRevision, result: { type: 'alarm', alarms: this.alarm(txn, body) }, events: [] };
      case 'memberAttr':
        return { revision: this.kv.currentRevision, result: { type: 'memberAttr' }, events: [] };
    }
  }

  /** Deletes every attached key in one revision (none when there are no keys), then the lease. */
  private revoke(txn: WriteTxn, id: bigint): ApplyOutcome {
    const keys = this.lessor.revoke(txn, id);
    const w = this.kv.beginWrite(txn, this.lessor);
    for (const k of keys) w.deleteKey(k);
    return { revision: this.kv.endWrite(w), result: { type: 'leaseRevoke' }, events: w.events };
  }

  private alarm(txn: WriteTxn, body: Extract<ApplyBody, { type: 'alarm' }>): AlarmMember[] {
    switch (body.action) {
      case AlarmAction.Get:
        return this.alarms.list(body.alarm);
      case AlarmAction.Activate:
        return [this.alarms.activate(txn, body.memberId, body.alarm)];
      case AlarmAction.Deactivate: {
        const a = this.alarms.deactivate(txn, body.memberId, body.alarm);
        return a ? [a] : [];
      }
    }
  }

  /** While NOSPACE is active, writes that grow the store are refused (etcd.md §2.9). */
  private checkSpace(): void {
    if (this.alarms.has(AlarmType.NoSpace)) throw new CoreError('no-space');
  }
}
