/**
 * Field-by-field comparison of a candidate (Coracle) reply with an oracle (real ZooKeeper)
 * reply, for the cross-checker. zxids are compared by order and equality through a growing
 * monotone bijection (the two servers number differently but must agree on which replies share
 * a zxid and in what order); times by plausibility (zero on both or neither, ctime == mtime on
 * both or neither unless within a few ms, mtime = ctime on a node never modified);
 * ephemeralOwner through the session-id map; everything else exactly.
 */
import { Acl, MultiResult, Stat, WatcherEvent, ZkResponse } from '../../protocol/jute';

/** One difference. */
export interface Mismatch {
  op: string;
  field: string;
  oracle: unknown;
  candidate: unknown;
}

/** One line for a mismatch: op, field, and both values (bigints and bytes as text). */
export function describeMismatch(m: Mismatch): string {
  const fmt = (v: unknown): string =>
    typeof v === 'bigint' ? v.toString()
      : Buffer.isBuffer(v) ? JSON.stringify(v.toString())
        : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return `${m.op} ${m.field}: oracle=${fmt(m.oracle)} candidate=${fmt(m.candidate)}`;
}

/** A notification Coracle wrote, with the revision of the change that fired it. */
export interface CandidateEvent {
  event: WatcherEvent;
  zxid: number;
}

/** Keeps the zxid bijection and the session map; compares replies and notifications. */
export class ReplyComparer {
  private readonly zxids: [bigint, bigint][] = [];
  /** Candidate revisions that closed a session (their events may come in any order). */
  readonly sessionKills = new Set<number>();
  /** oracle session id → candidate session id */
  readonly sessions = new Map<bigint, bigint>([[0n, 0n]]);

  /** Checks that oracle zxid `o` and candidate zxid `c` fit the bijection so far; records them. */
  zxid(o: bigint, c: bigint): string | undefined {
    if (o <= 0n && c <= 0n) return o === c || (o <= 0n && c <= 0n) ? undefined : 'sign';
    for (const [a, b] of this.zxids) {
      const so = o === a ? 0 : o > a ? 1 : -1;
      const sc = c === b ? 0 : c > b ? 1 : -1;
      if (so !== sc) return `zxid order: oracle ${o} vs ${a} is ${so}, candidate ${c} vs ${b} is ${sc}`;
    }
    if (!this.zxids.some(([a]) => a === o)) this.zxids.push([o, c]);
    return undefined;
  }

  /**
   * The oracle's zxid for candidate zxid `c` as far as the bijection knows it: the oracle zxid
   * paired with the largest candidate zxid ≤ `c` (0 if none). Exact for any zxid a client saw in
   * a compared reply, which is what a SetWatches' relativeZxid is.
   */
  toOracle(c: bigint): bigint {
    let best: [bigint, bigint] | undefined;
    for (const pair of this.zxids) if (pair[1] <= c && (!best || pair[1] > best[1])) best = pair;
    return best ? best[0] : 0n;
  }

  /** Compares two Stats; returns the differing fields. */
  stat(op: string, o: Stat, c: Stat, out: Mismatch[], where = 'stat'): void {
    for (const f of ['czxid', 'mzxid', 'pzxid'] as const) {
      const e = this.zxid(o[f], c[f]);
      if (e) out.push({ op, field: `${where}.${f}`, oracle: o[f], candidate: c[f] });
    }
    for (const f of ['version', 'cversion', 'aversion', 'dataLength', 'numChildren'] as const) {
      if (o[f] !== c[f]) out.push({ op, field: `${where}.${f}`, oracle: o[f], candidate: c[f] });
    }
    if ((o.ctime === 0n) !== (c.ctime === 0n)) out.push({ op, field: `${where}.ctime`, oracle: o.ctime, candidate: c.ctime });
    if (!sameTimeRelation(o, c)) out.push({ op, field: `${where}.ctime==mtime`, oracle: o.mtime, candidate: c.mtime });
    // A node never modified keeps mtime = ctime; a modification never goes back in time.
    if ((c.mzxid === c.czxid && c.mtime !== c.ctime) || c.mtime < c.ctime) {
      out.push({ op, field: `${where}.mtime`, oracle: o.mtime, candidate: c.mtime });
    }
    const mapped = this.sessions.get(o.ephemeralOwner);
    if (mapped === undefined ? c.ephemeralOwner !== 0n && o.ephemeralOwner === 0n : mapped !== c.ephemeralOwner) {
      out.push({ op, field: `${where}.ephemeralOwner`, oracle: o.ephemeralOwner, candidate: c.ephemeralOwner });
    }
  }

  /** Compares two reply bodies. */
  body(op: string, o: ZkResponse | undefined, c: ZkResponse | undefined, out: Mismatch[]): void {
    if (!o || !c) {
      if (!!o !== !!c && !(isEmpty(o) && isEmpty(c))) out.push({ op, field: 'body', oracle: o?.op, candidate: c?.op });
      return;
    }
    if (o.op !== c.op) {
      out.push({ op, field: 'body.op', oracle: o.op, candidate: c.op });
      return;
    }
    const oo = o as Record<string, unknown>;
    const cc = c as Record<string, unknown>;
    if ('stat' in oo) this.stat(op, oo.stat as Stat, cc.stat as Stat, out);
    if ('path' in oo && oo.path !== cc.path) out.push({ op, field: 'path', oracle: oo.path, candidate: cc.path });
    if ('data' in oo && !sameBytes(oo.data as Buffer | null, cc.data as Buffer | null)) out.push({ op, field: 'data', oracle: oo.data, candidate: cc.data });
    for (const f of ['children', 'ephemerals'] as const) {
      if (f in oo && !sameList(oo[f] as string[], cc[f] as string[])) out.push({ op, field: f, oracle: oo[f], candidate: cc[f] });
    }
    if ('acl' in oo && aclText(oo.acl as Acl[]) !== aclText(cc.acl as Acl[])) out.push({ op, field: 'acl', oracle: oo.acl, candidate: cc.acl });
    for (const f of ['totalNumber', 'err'] as const) if (f in oo && oo[f] !== cc[f]) out.push({ op, field: f, oracle: oo[f], candidate: cc[f] });
    // In order: ZooKeeper lists a connection's ids in its hash set's order (mapping/auth-order.ts).
    const ids = (x: unknown): string => JSON.stringify(((x as { authScheme: string; user: string }[]) ?? []).map((i) => `${i.authScheme}:${i.user}`));
    if ('clientInfo' in oo && ids(oo.clientInfo) !== ids(cc.clientInfo)) out.push({ op, field: 'clientInfo', oracle: oo.clientInfo, candidate: cc.clientInfo });
    if (o.op === 'multi' && c.op === 'multi') this.multi(op, o.results, c.results, out);
  }

  private multi(op: string, o: MultiResult[], c: MultiResult[], out: Mismatch[]): void {
    if (o.length !== c.length) {
      out.push({ op, field: 'multi.length', oracle: o.length, candidate: c.length });
      return;
    }
    o.forEach((r, i) => {
      const x = c[i]!;
      if (r.type !== x.type) out.push({ op, field: `multi[${i}].type`, oracle: r.type, candidate: x.type });
      else this.body(`${op}[${i}]`, { op: 'x', ...r } as unknown as ZkResponse, { op: 'x', ...x } as unknown as ZkResponse, out);
    });
  }

  /**
   * Compares one session's notifications, in order, except within a session close: ZooKeeper
   * deletes the closed session's ephemerals in the order of a Java HashSet (by string hash), so
   * the events of that one transaction (candidate revisions in {@link sessionKills}) are compared
   * as a multiset against the same number of oracle events at that place.
   */
  events(o: readonly WatcherEvent[], c: readonly CandidateEvent[], out: Mismatch[]): void {
    const fmt = (e: WatcherEvent): string => `${e.type}:${e.state}:${e.path}`;
    const mismatch = (): void => {
      out.push({ op: 'notification', field: 'events', oracle: o.map(fmt).join(' '), candidate: c.map((x) => fmt(x.event)).join(' ') });
    };
    if (o.length !== c.length) return mismatch();
    for (let i = 0; i < c.length;) {
      let j = i + 1;
      if (this.sessionKills.has(c[i]!.zxid)) while (j < c.length && c[j]!.zxid === c[i]!.zxid) j++;
      const want = o.slice(i, j).map(fmt).sort().join(' ');
      const got = c.slice(i, j).map((x) => fmt(x.event)).sort().join(' ');
      if (want !== got) return mismatch();
      i = j;
    }
  }
}

/** Within this, a ctime/mtime difference may be a write that fell in the next millisecond. */
const SAME_MS_SLACK = 5n;

/**
 * Whether mtime = ctime holds on both or neither; a write landing in the same millisecond as the
 * create on one server and the next on the other is not a difference.
 */
function sameTimeRelation(o: Stat, c: Stat): boolean {
  if ((o.ctime === o.mtime) === (c.ctime === c.mtime)) return true;
  const gap = (s: Stat): bigint => (s.mtime > s.ctime ? s.mtime - s.ctime : s.ctime - s.mtime);
  return gap(o) <= SAME_MS_SLACK && gap(c) <= SAME_MS_SLACK;
}

function isEmpty(r: ZkResponse | undefined): boolean {
  return !r || r.op === 'empty';
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  if (a === null || b === null) return (a?.length ?? 0) === 0 && (b?.length ?? 0) === 0 ? a === b || (a?.length === 0 && b?.length === 0) : false;
  return a.equals(b);
}

function sameList(a: string[], b: string[]): boolean {
  return JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());
}

function aclText(a: Acl[]): string {
  return a.map((x) => `${x.perms}:${x.id.scheme}:${x.id.id}`).sort().join(',');
}
