/**
 * An MVCC store on a real LMDB backend (no fsync) with its applier, lessor and watch hub, for
 * the core/mvcc tests: writes go through the applier as the log would apply them, and each
 * write's events are handed to the watch hub once it is durable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LmdbBackend } from '../../../../core/storage/lmdb-backend';
import { KvStore } from '../../../../core/mvcc/kv-store';
import { Lessor } from '../../../../core/lease/lessor';
import { AlarmStore } from '../../../../core/apply/alarm-store';
import { Applier, ApplyOutcome } from '../../../../core/apply/applier';
import { ApplyBody } from '../../../../core/apply/apply-request';
import { ManualClock } from '../../../../core/util/clock';
import { WatchableStore } from '../../../../core/mvcc/watchable-store';
import type { RangeRequest } from '../../../../core/mvcc/kv-types';

/** A Buffer of `s`. */
export const b = (s: string): Buffer => Buffer.from(s);

/** A range of [key, end) (a single key for end ''), etcd's defaults otherwise. */
export function rangeReq(key: string, end = '', extra: Partial<RangeRequest> = {}): RangeRequest {
  return { key: b(key), rangeEnd: b(end), limit: 0, revision: 0, sortOrder: 0, sortTarget: 0, serializable: true, keysOnly: false, countOnly: false, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0, ...extra };
}

/** The store and its parts; `close` removes its directory. */
export class Harness {
  readonly dir = mkdtempSync(join(tmpdir(), 'coracle-mvcc-'));
  backend = LmdbBackend.open({ path: this.dir, noSync: true });
  kv = new KvStore(this.backend);
  clock = new ManualClock();
  lessor = new Lessor(this.clock, 2);
  alarms = new AlarmStore();
  applier = new Applier(this.kv, this.lessor, this.alarms);
  watches = new WatchableStore(this.kv);

  async apply(body: ApplyBody): Promise<ApplyOutcome> {
    const out = await this.backend.write((txn) => this.applier.apply(txn, { header: { id: 1n, username: '', authRevision: 0 }, body }));
    this.kv.markDurable(this.kv.currentRevision);
    if (out.events.length) this.watches.notify([{ revision: out.revision, events: out.events }]);
    return out;
  }

  put(key: string, value: string, lease = 0n) {
    return this.apply({ type: 'put', put: { key: b(key), value: b(value), lease, prevKv: true, ignoreValue: false, ignoreLease: false } });
  }

  async reopen(): Promise<void> {
    await this.backend.close();
    this.backend = LmdbBackend.open({ path: this.dir, noSync: true });
    this.kv = new KvStore(this.backend);
    const loaded = this.kv.load();
    this.lessor = new Lessor(this.clock, 2);
    this.backend.read((txn) => this.lessor.load(txn, loaded.attachments));
    this.applier = new Applier(this.kv, this.lessor, this.alarms);
  }

  async close(): Promise<void> {
    await this.backend.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
