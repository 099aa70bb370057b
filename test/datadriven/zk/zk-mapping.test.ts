/**
 * Scripted tests of the znode ↔ key mapping (DESIGN §8 "scripted … zk mapping"): each write is
 * planned against the replica exactly as the proxy does, its store transaction (guards, puts,
 * deletes) is printed and applied to a small synchronous store, and the store's events are fed
 * back into the replica — so the scripts show which keys each ZooKeeper operation writes and the
 * Stat that results. Regenerate with `REWRITE=1 node --test dist/test/datadriven/zk/` and review
 * the diff.
 */
import { test } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Acl, CreateRequest, ZkRequest, errName } from '../../../protocol/jute';
import { KvPair, KvTxn } from '../../../zkproxy/backend/kv-backend';
import { ZkError } from '../../../zkproxy/errors/zk-error';
import { digestId } from '../../../zkproxy/mapping/acl-rules';
import { bootstrapOps } from '../../../zkproxy/mapping/bootstrap';
import { KeySchema } from '../../../zkproxy/mapping/key-schema';
import { ZnodeTree } from '../../../zkproxy/mapping/znode-tree';
import { resolveStat, statOf } from '../../../zkproxy/mapping/znode-view';
import { MultiFailure, planMulti, resolveMulti } from '../../../zkproxy/ops/multi-op';
import { TxnPlan } from '../../../zkproxy/ops/txn-plan';
import { WriteContext, planCreate, planDelete, planSetAcl, planSetData } from '../../../zkproxy/ops/write-ops';
import { CmdArg, TestCase, runScript } from '../raft/datadriven';

/** A synchronous etcd-like store: just enough MVCC for the mapping. */
class Store {
  readonly kvs = new Map<string, KvPair>();
  revision = 1;

  constructor(private readonly tree: ZnodeTree) {}

  /** Applies `txn` if its guards hold; feeds the events to the tree. Returns the new revision or undefined. */
  apply(txn: KvTxn): number | undefined {
    for (const c of txn.compare) {
      const kv = this.kvs.get(c.key.toString());
      const actual = c.target === 'mod' ? kv?.modRevision ?? 0 : c.target === 'create' ? kv?.createRevision ?? 0 : kv?.version ?? 0;
      if (actual !== c.value) return undefined;
    }
    const rev = this.revision + 1;
    for (const op of txn.success) {
      const k = 'key' in op ? op.key.toString() : '';
      if (op.type === 'put') {
        const prev = this.kvs.get(k);
        const kv: KvPair = { key: op.key, value: op.value, createRevision: prev?.createRevision ?? rev, modRevision: rev, version: (prev?.version ?? 0) + 1, lease: op.lease ?? 0n };
        this.kvs.set(k, kv);
        this.tree.apply('put', kv);
      } else if (op.type === 'delete' && this.kvs.has(k)) {
        const prev = this.kvs.get(k)!;
        this.kvs.delete(k);
        this.tree.apply('delete', { ...prev, modRevision: rev });
      }
    }
    this.revision = rev;
    this.tree.revision = rev;
    return rev;
  }
}

interface Env {
  tree: ZnodeTree;
  store: Store;
  ctx: WriteContext;
}

function arg(tc: TestCase, key: string, dflt?: string): string {
  const a = tc.args.find((x: CmdArg) => x.key === key);
  if (a) return a.vals.join(',');
  if (dflt === undefined) throw new Error(`${tc.pos}: missing ${key}=`);
  return dflt;
}

function aclOf(spec: string): Acl[] {
  if (spec === 'open') return [{ perms: 31, id: { scheme: 'world', id: 'anyone' } }];
  if (spec === 'read') return [{ perms: 1, id: { scheme: 'world', id: 'anyone' } }];
  if (spec.startsWith('digest:')) return [{ perms: 31, id: { scheme: 'digest', id: digestId(spec.slice(7)) } }];
  throw new Error(`unknown acl ${spec}`);
}

function createReq(words: Map<string, string>): CreateRequest & { ttl?: bigint } {
  return {
    path: words.get('path')!, data: words.has('data') ? Buffer.from(words.get('data')!) : null,
    acl: aclOf(words.get('acl') ?? 'open'), flags: Number(words.get('flags') ?? 0),
    ttl: words.has('ttl') ? BigInt(words.get('ttl')!) : undefined,
  };
}

function describeTxn(txn: KvTxn): string[] {
  const out = txn.compare.map((c) => `  guard ${c.key} ${c.target}=${String(c.value)}`);
  for (const op of txn.success) {
    if (op.type === 'put') out.push(`  put ${op.key}${op.lease ? ` lease=${op.lease}` : ''}`);
    if (op.type === 'delete') out.push(`  delete ${op.key}`);
  }
  return out;
}

function write<T>(env: Env, fn: (p: TxnPlan) => T, show: (r: T, rev: number) => string): string {
  const plan = new TxnPlan(env.tree, env.tree.keys, 1000n);
  try {
    const r = fn(plan);
    const txn = plan.commitTxn();
    const rev = env.store.apply(txn);
    if (rev === undefined) return 'guard failed';
    return [`rev=${rev} ${show(r, rev)}`, ...describeTxn(txn)].join('\n');
  } catch (e) {
    if (e instanceof MultiFailure) return `multi failed: ${e.results.map((x) => (x.type === 'error' ? errName(x.err) : x.type)).join(' ')}`;
    if (e instanceof ZkError) return `error ${errName(e.code)}`;
    throw e;
  }
}

function statLine(env: Env, p: string): string {
  const v = env.tree.view(p);
  if (!v) return `${p}: absent`;
  const s = statOf(v);
  return `${p}: czxid=${s.czxid} mzxid=${s.mzxid} pzxid=${s.pzxid} version=${s.version} cversion=${s.cversion} aversion=${s.aversion} owner=${s.ephemeralOwner} dataLength=${s.dataLength} numChildren=${s.numChildren}`;
}

function multiOps(input: string): ZkRequest[] {
  return input.split('\n').filter((l) => l.trim()).map((l) => {
    const [op, ...rest] = l.trim().split(/\s+/);
    const w = new Map(rest.map((x) => x.split('=') as [string, string]));
    switch (op) {
      case 'create': return { op: 'create', ...createReq(w) };
      case 'delete': return { op: 'delete', path: w.get('path')!, version: Number(w.get('version') ?? -1) };
      case 'set': return { op: 'setData', path: w.get('path')!, data: Buffer.from(w.get('data') ?? ''), version: Number(w.get('version') ?? -1) };
      case 'check': return { op: 'check', path: w.get('path')!, version: Number(w.get('version') ?? -1) };
      default: throw new Error(`unknown multi op ${op}`);
    }
  });
}

function handle(env: Env, tc: TestCase): string {
  const words = new Map(tc.args.map((a) => [a.key, a.vals.join(',')]));
  switch (tc.cmd) {
    case 'create': {
      const req = createReq(words);
      return write(env, (p) => planCreate(p, req, req.ttl, env.ctx), (r) => statLine(env, r.path));
    }
    case 'set': return write(env, (p) => planSetData(p, arg(tc, 'path'), Buffer.from(arg(tc, 'data', '')), Number(arg(tc, 'version', '-1')), env.ctx), (s, rev) => `version=${resolveStat(s, rev).version}`);
    case 'delete': return write(env, (p) => planDelete(p, arg(tc, 'path'), Number(arg(tc, 'version', '-1')), env.ctx), () => 'deleted');
    case 'setacl': return write(env, (p) => planSetAcl(p, arg(tc, 'path'), aclOf(arg(tc, 'acl')), Number(arg(tc, 'version', '-1')), env.ctx), (s) => `aversion=${s.aversion}`);
    case 'multi': return write(env, (p) => planMulti(p, multiOps(tc.input), env.ctx), (r, rev) => resolveMulti(r, rev).map((x) => ('path' in x ? `${x.type}:${x.path}` : x.type)).join(' '));
    case 'auth': env.ctx = { ...env.ctx, auth: [...env.ctx.auth, { scheme: 'digest', id: digestId(arg(tc, 'user')) }] }; return 'ok';
    case 'session': env.ctx = { ...env.ctx, sessionId: BigInt(arg(tc, 'id')) }; return 'ok';
    case 'stat': return arg(tc, 'path').split(',').map((p) => statLine(env, p)).join('\n');
    case 'ls': return [...(env.tree.view(arg(tc, 'path'))?.children ?? [])].sort().join(' ') || '(none)';
    case 'keys': return [...env.store.kvs.values()].map((kv) => `${kv.key} v${kv.version} c${kv.createRevision} m${kv.modRevision}${kv.lease ? ` lease=${kv.lease}` : ''}`).sort().join('\n');
    default: throw new Error(`${tc.pos}: unknown command ${tc.cmd}`);
  }
}

const dir = path.resolve(__dirname, '../../../../test/datadriven/zk/testdata');
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`zk mapping: ${file}`, () => {
    const keys = new KeySchema();
    const tree = new ZnodeTree(keys);
    const store = new Store(tree);
    store.apply({ compare: [], success: bootstrapOps(keys), failure: [] });
    const env: Env = { tree, store, ctx: { sessionId: 0n, auth: [{ scheme: 'ip', id: '127.0.0.1' }], ttlEnabled: true } };
    runScript(path.join(dir, file), (tc) => handle(env, tc));
  });
}
