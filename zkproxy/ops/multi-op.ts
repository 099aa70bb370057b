/**
 * multi (14): every sub-op planned on one {@link TxnPlan}, committed as one store transaction
 * at one zxid and one timestamp; later ops see earlier ops' effects. Results are per op exactly
 * as ZooKeeper sends them (zk-protocol.md §1.8, §2.6): on success create → type 1 (path),
 * create2/createTTL/createContainer → type 15 (path + stat), delete → 2, setData → 5 (stat),
 * check → 13; on failure at op k: ok (0) for ops before k, k's code, RUNTIMEINCONSISTENCY after,
 * all as error results, with header err 0 and a zxid spent.
 */
import { MultiResult, Stat, ZkErr, ZkRequest } from '../../protocol/jute';
import { ZkError, fail } from '../errors/zk-error';
import { resolveStat } from '../mapping/znode-view';
import { TxnPlan } from './txn-plan';
import { WriteContext, planCheck, planCreate, planDelete, planSetData } from './write-ops';

/** A multi's per-op outcome before the zxid is known. */
type Pending = { type: 'create'; path: string } | { type: 'create2'; path: string; stat: Stat } | { type: 'delete' } | { type: 'setData'; stat: Stat } | { type: 'check' };

/** Thrown out of the plan to fail the whole multi with per-op results. */
export class MultiFailure extends ZkError {
  constructor(readonly results: MultiResult[]) {
    super(ZkErr.OK, 'multi failed');
  }
}

function planOne(plan: TxnPlan, op: ZkRequest, ctx: WriteContext): Pending {
  switch (op.op) {
    case 'create': return { type: 'create', path: planCreate(plan, op, undefined, ctx).path };
    // ZooKeeper 3.8 answers a create2 sub-op with a plain create result (type 1, path only).
    case 'create2': return { type: 'create', path: planCreate(plan, op, undefined, ctx).path };
    case 'createContainer': {
      const r = planCreate(plan, op, undefined, ctx);
      return { type: 'create2', path: r.path, stat: r.stat };
    }
    case 'createTTL': {
      const r = planCreate(plan, op, op.ttl, ctx);
      return { type: 'create2', path: r.path, stat: r.stat };
    }
    case 'delete': planDelete(plan, op.path, op.version, ctx); return { type: 'delete' };
    case 'setData': return { type: 'setData', stat: planSetData(plan, op.path, op.data, op.version, ctx) };
    case 'check': planCheck(plan, op.path, op.version, ctx); return { type: 'check' };
    default: return fail(ZkErr.BADARGUMENTS, `op ${op.op} not allowed in multi`);
  }
}

/**
 * Plans every op of a multi. Returns the pending results on success; throws
 * {@link MultiFailure} with the per-op error results on the first failing op.
 */
export function planMulti(plan: TxnPlan, ops: readonly ZkRequest[], ctx: WriteContext): Pending[] {
  const out: Pending[] = [];
  for (let k = 0; k < ops.length; k++) {
    try {
      out.push(planOne(plan, ops[k]!, ctx));
    } catch (e) {
      if (!(e instanceof ZkError)) throw e;
      const results: MultiResult[] = ops.map((_, i) => ({
        type: 'error', err: i < k ? ZkErr.OK : i === k ? e.code : ZkErr.RUNTIMEINCONSISTENCY,
      }));
      throw new MultiFailure(results);
    }
  }
  return out;
}

/** The wire results of a committed multi at `zxid`. */
export function resolveMulti(pending: readonly Pending[], zxid: number): MultiResult[] {
  return pending.map((p) => {
    switch (p.type) {
      case 'create2': return { ...p, stat: resolveStat(p.stat, zxid) };
      case 'setData': return { ...p, stat: resolveStat(p.stat, zxid) };
      default: return p;
    }
  });
}
