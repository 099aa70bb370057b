/**
 * Replicated alarms (NOSPACE, CORRUPT) per member, persisted in the `alarm` sub-database
 * (etcd.md §2.9). While NOSPACE is active only reads, deletes, compaction and revokes are allowed.
 */
import { ReadTxn, WriteTxn } from '../storage/backend';
import { DB } from '../storage/schema';
import { AlarmType } from './apply-request';

/** One active alarm. */
export interface AlarmMember {
  memberId: bigint;
  alarm: AlarmType;
}

/** The set of active alarms. */
export class AlarmStore {
  private readonly active = new Map<string, AlarmMember>();

  /** Loads persisted alarms, replacing what it held. */
  load(txn: ReadTxn): void {
    this.active.clear();
    for (const { key } of txn.iterate(DB.alarm)) {
      const memberId = key.readBigUInt64BE(0);
      const alarm = key[8] as AlarmType;
      this.active.set(id(memberId, alarm), { memberId, alarm });
    }
  }

  /** Active alarms, optionally only of one type (AlarmType.None = all). */
  list(type: AlarmType = AlarmType.None): AlarmMember[] {
    return [...this.active.values()].filter((a) => type === AlarmType.None || a.alarm === type);
  }

  /** True when any member has `type` active. */
  has(type: AlarmType): boolean {
    for (const a of this.active.values()) if (a.alarm === type) return true;
    return false;
  }

  /** Activates an alarm; returns the activated alarm. */
  activate(txn: WriteTxn, memberId: bigint, alarm: AlarmType): AlarmMember {
    const a = { memberId: BigInt.asUintN(64, memberId), alarm };
    this.active.set(id(memberId, alarm), a);
    txn.put(DB.alarm, key(memberId, alarm), Buffer.alloc(0));
    return a;
  }

  /** Deactivates an alarm; returns it, or undefined when it was not active. */
  deactivate(txn: WriteTxn, memberId: bigint, alarm: AlarmType): AlarmMember | undefined {
    const k = id(memberId, alarm);
    const a = this.active.get(k);
    if (!a) return undefined;
    this.active.delete(k);
    txn.del(DB.alarm, key(memberId, alarm));
    return a;
  }
}

/**
 * Member ids are unsigned 64-bit everywhere here: the apply log carries them as int64 (a member
 * id above 2^63 arrives negative), while the stored key is unsigned, so both forms must map to
 * one entry — or an alarm raised before a restart could not be disarmed after it.
 */
function id(memberId: bigint, alarm: AlarmType): string {
  return `${BigInt.asUintN(64, memberId)}:${alarm}`;
}

function key(memberId: bigint, alarm: AlarmType): Buffer {
  const b = Buffer.alloc(9);
  b.writeBigUInt64BE(BigInt.asUintN(64, memberId));
  b[8] = alarm;
  return b;
}
