/**
 * The write operations planned on a {@link TxnPlan}: create (all modes), delete, setData,
 * setACL and check. Each follows PrepRequestProcessor's order of checks, so the error code for
 * a request that is wrong in several ways is ZooKeeper's (zk-protocol.md §2.4 "Checks and their
 * order"). They throw {@link ZkError}; the stats they return may hold PENDING_ZXID.
 */
import { Acl, CreateRequest, MAX_TTL_MS, Perms, Stat, ZkErr, createModeInfo } from '../../protocol/jute';
import { fail } from '../errors/zk-error';
import { AuthId, checkAcl, fixupAcl } from '../mapping/acl-rules';
import { isSystemPath, parentOf, pathProblem } from '../mapping/path-rules';
import { NodeKind, dataLength } from '../mapping/node-codec';
import { ChildDelta, NodeView, PENDING_ZXID, createCount, isEphemeral, statOf } from '../mapping/znode-view';
import { QuotaCheck } from './quota-check';
import { TxnPlan } from './txn-plan';

/** Who is writing. */
export interface WriteContext {
  sessionId: bigint;
  auth: readonly AuthId[];
  /** zookeeper.extendedTypesEnabled: TTL nodes allowed. */
  ttlEnabled: boolean;
  /** zookeeper.enforceQuota: hard quotas checked by this; undefined = not enforced. */
  quota?: QuotaCheck;
}

/** The result of a create: the actual path (with sequence suffix) and the new node's Stat. */
export interface CreateResult {
  path: string;
  stat: Stat;
}

/** Validates a path for a write (BADARGUMENTS). */
export function validateWritePath(path: string): void {
  const problem = pathProblem(path);
  if (problem) fail(ZkErr.BADARGUMENTS, problem);
}

/** The kind and TTL of a create, checking the mode/TTL rules (CreateMode, EphemeralType). */
function createKind(req: CreateRequest, ttl: bigint | undefined, ctx: WriteContext): { kind: NodeKind; ttl: bigint } {
  const mode = createModeInfo(req.flags);
  if (!mode) fail(ZkErr.BADARGUMENTS, `bad create flags ${req.flags}`);
  if (mode.ttl) {
    if (!ctx.ttlEnabled) fail(ZkErr.UNIMPLEMENTED, 'TTL nodes are disabled');
    if (ttl === undefined || ttl <= 0n || ttl > MAX_TTL_MS) fail(ZkErr.BADARGUMENTS, 'bad ttl');
    return { kind: 'ttl', ttl };
  }
  // createTTL (21) with a non-TTL mode: ZooKeeper 3.8 drops the connection (ttl ≥ 0) or stops
  // the server (ttl < 0, IllegalArgumentException in its SyncThread). We answer BADARGUMENTS.
  if (ttl !== undefined) fail(ZkErr.BADARGUMENTS, 'createTTL needs a TTL create mode');
  return { kind: mode.container ? 'container' : 'plain', ttl: 0n };
}

/**
 * create / create2 / createContainer / createTTL. `ttl` is given only for createTTL (op 21).
 * Order: mode/TTL → path shape → ACL → parent exists → CREATE on parent → sequential suffix →
 * full path → exists → parent ephemeral → quota.
 */
export function planCreate(plan: TxnPlan, req: CreateRequest, ttl: bigint | undefined, ctx: WriteContext): CreateResult {
  const { kind, ttl: ttlMs } = createKind(req, ttl, ctx);
  const mode = createModeInfo(req.flags)!;
  const lastSlash = req.path.lastIndexOf('/');
  if (lastSlash < 0 || req.path.indexOf('\0') >= 0) fail(ZkErr.BADARGUMENTS, 'bad path');
  const acl = fixupAcl(req.acl, ctx.auth);
  const parentPath = lastSlash === 0 ? '/' : req.path.slice(0, lastSlash);
  const parent = plan.get(parentPath);
  plan.guard(parentPath, 'exists');
  if (!parent) fail(ZkErr.NONODE, parentPath);
  plan.guard(parentPath, 'acl');
  checkAcl(parent.acl, Perms.CREATE, ctx.auth);
  if (mode.sequential) plan.guard(parentPath, 'children');
  const path = mode.sequential ? req.path + sequenceSuffix(createCount(parent)) : req.path;
  validateWritePath(path);
  if (path === '/') fail(ZkErr.NODEEXISTS, path);
  plan.guard(path, 'exists');
  if (plan.get(path)) fail(ZkErr.NODEEXISTS, path);
  if (isEphemeral(parent)) fail(ZkErr.NOCHILDRENFOREPHEMERALS, parentPath);
  ctx.quota?.create(path, req.data?.length ?? 0);
  const node: NodeView = {
    path, kind, data: req.data, version: 0, ctime: plan.now, mtime: plan.now, ttl: ttlMs,
    owner: mode.ephemeral ? ctx.sessionId : 0n,
    czxid: PENDING_ZXID, mzxid: PENDING_ZXID, pzxid: PENDING_ZXID,
    acl, aversion: 0, cversion: 0, children: new ChildDelta(new Set()), guard: { nc: 0, n: 0, nv: 0, a: 0, c: 0, offset: 0, aOffset: 0 },
  };
  plan.put(node);
  return { path, stat: statOf(node) };
}

/** `%010d` of the parent's create counter; negative after int32 wrap, as in ZooKeeper. */
export function sequenceSuffix(counter: number): string {
  const n = counter | 0;
  return n < 0 ? `-${String(-n).padStart(9, '0')}` : String(n).padStart(10, '0');
}

/**
 * delete: no slash, \0 or a special path → parent → DELETE on parent → node → version →
 * children. ZooKeeper does not validate the rest of a delete's path: an odd one is NONODE.
 */
export function planDelete(plan: TxnPlan, path: string, version: number, ctx: WriteContext): void {
  if (!path.includes('/') || isSystemPath(path) || path.indexOf('\0') >= 0) fail(ZkErr.BADARGUMENTS, path);
  const parentPath = parentOf(path);
  const parent = plan.get(parentPath);
  plan.guard(parentPath, 'exists');
  if (!parent) fail(ZkErr.NONODE, path);
  plan.guard(parentPath, 'acl');
  checkAcl(parent.acl, Perms.DELETE, ctx.auth);
  const node = plan.get(path);
  plan.guard(path, 'node', 'children');
  if (!node) fail(ZkErr.NONODE, path);
  if (version !== -1 && node.version !== version) fail(ZkErr.BADVERSION, path);
  if (node.children.size > 0) fail(ZkErr.NOTEMPTY, path);
  plan.remove(path);
}

/** setData: path → node → WRITE → quota → version. Returns the new Stat. */
export function planSetData(plan: TxnPlan, path: string, data: Buffer | null, version: number, ctx: WriteContext): Stat {
  validateWritePath(path);
  const node = plan.get(path);
  plan.guard(path, 'node', 'acl');
  if (!node) fail(ZkErr.NONODE, path);
  checkAcl(node.acl, Perms.WRITE, ctx.auth);
  ctx.quota?.setData(path, dataLength(node.data), data?.length ?? 0);
  if (version !== -1 && node.version !== version) fail(ZkErr.BADVERSION, path);
  plan.reportsChildrenOf(path);
  const v = plan.edit(path, 'n');
  v.data = data;
  // ZooKeeper skips -1 when the version wraps (ZOOKEEPER-4743): -1 means "any version".
  v.version = v.version + 1 === -1 ? 0 : (v.version + 1) | 0;
  v.mtime = plan.now;
  v.mzxid = PENDING_ZXID;
  return statOf(v);
}

/** setACL: path → ACL fix-up → node → ADMIN → aversion. Returns the new Stat. */
export function planSetAcl(plan: TxnPlan, path: string, acl: readonly Acl[], version: number, ctx: WriteContext): Stat {
  validateWritePath(path);
  const fixed = fixupAcl(acl, ctx.auth);
  const node = plan.get(path);
  plan.guard(path, 'exists', 'acl');
  if (!node) fail(ZkErr.NONODE, path);
  checkAcl(node.acl, Perms.ADMIN, ctx.auth);
  if (version !== -1 && node.aversion !== version) fail(ZkErr.BADVERSION, path);
  const v = plan.edit(path, 'a');
  v.acl = fixed;
  v.aversion = (v.aversion + 1) | 0;
  return statOf(v);
}

/** check: path → node → READ → version. */
export function planCheck(plan: TxnPlan, path: string, version: number, ctx: WriteContext): Stat {
  validateWritePath(path);
  const node = plan.get(path);
  plan.guard(path, 'node', 'acl');
  if (!node) fail(ZkErr.NONODE, path);
  checkAcl(node.acl, Perms.READ, ctx.auth);
  if (version !== -1 && node.version !== version) fail(ZkErr.BADVERSION, path);
  return statOf(node);
}
