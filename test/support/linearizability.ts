/**
 * A linearizability checker for histories of puts and gets on a key-value store (Herlihy &
 * Wing's definition: every operation appears to take effect at one instant between its
 * invocation and its completion, in an order consistent with a sequential register per key).
 *
 * How it works:
 * - P-compositionality: linearizability is local (Herlihy & Wing, theorem 1), so the history is
 *   split by key and each key is checked as an independent register.
 * - Per key, the Wing–Gong search with Lowe's memoization (the algorithm Porcupine uses): walk a
 *   list of call/return events in time order; at each call, try to linearize that operation
 *   now; reaching a return means the operation should already have taken effect, so backtrack.
 *   A configuration (set of linearized operations, register value) seen before is never
 *   explored twice, which is what makes the search practical.
 * - Indeterminate operations (`ret === undefined`: timed out, connection lost) may or may not
 *   have taken effect. A put is treated as returning at +Infinity: it may be placed anywhere
 *   after its call, and placing it last is the same as "never happened". A get that never
 *   returned observed nothing and constrains nothing, so it is dropped.
 * - Two sound reductions before the search (as etcd's robustness tests patch their histories):
 *   an indeterminate put whose value no get observed is dropped (if it happened, nothing saw
 *   it before the next put); and an indeterminate put whose value is written by no other put
 *   must have taken effect before the earliest return of a get that observed it, so its return
 *   time becomes that.
 *
 * Time: any numbers on one clock. Intervals that touch (`a.ret === b.call`) count as
 * concurrent, which can only make the checker more permissive, never report a false violation.
 */

/** One client operation of a history. */
export interface KvOperation {
  client: number;
  kind: 'put' | 'get';
  key: string;
  /** put: the value written; get: the value observed, undefined = key absent */
  value: string | undefined;
  /** invocation time */
  call: number;
  /** completion time; undefined = indeterminate (timed out / connection lost: it may or may not have taken effect) */
  ret: number | undefined;
}

/**
 * The verdict: `ok: true` (a linearization exists for every key), `ok: false` (none exists for
 * `key`; `explanation` names the operations involved), or `ok: 'unknown'` (the search for
 * `key` ran out of its time budget; nothing was proved either way).
 */
export type LinearizabilityResult = { ok: true } | { ok: false; key: string; explanation: string } | { ok: 'unknown'; key: string; reason: string };

const DEFAULT_BUDGET_MS = 10_000;
/** Clock reads are not free: look at the deadline once per this many search steps. */
const CLOCK_EVERY = 1024;
/** How many operations an explanation lists, at most, in each of its parts. */
const SHOWN = 6;

/**
 * Checks that `ops` is linearizable as a set of independent registers, one per key, each
 * starting absent. Never throws on bad histories; throws RangeError only for malformed
 * operations (a return before its call, a non-finite call time). Bounded by `budgetMs`
 * (default 10 s, shared by all keys): when exhausted the result is `unknown` for the key being
 * searched, unless another key has already been proved non-linearizable.
 */
export function checkLinearizable(ops: readonly KvOperation[], opts?: { budgetMs?: number }): LinearizabilityResult {
  const deadline = performance.now() + (opts?.budgetMs ?? DEFAULT_BUDGET_MS);
  const byKey = new Map<string, KvOperation[]>();
  for (const op of ops) {
    if (!Number.isFinite(op.call)) throw new RangeError(`operation with a non-finite call time: ${formatOperation(op)}`);
    if (op.ret !== undefined && op.ret < op.call) throw new RangeError(`operation returns before its call: ${formatOperation(op)}`);
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(op);
  }
  let unknown: LinearizabilityResult | undefined;
  for (const key of [...byKey.keys()].sort()) {
    const r = new RegisterSearch(key, reduce(byKey.get(key)!), deadline).run();
    if (r.ok === false) return r;
    if (r.ok === 'unknown' && unknown === undefined) unknown = r;
  }
  return unknown ?? { ok: true };
}

/** An operation prepared for the search: its return time resolved (Infinity if indeterminate). */
interface Prepared {
  op: KvOperation;
  ret: number;
}

/** Applies the two sound reductions described in the file header; drops indeterminate gets. */
function reduce(ops: KvOperation[]): Prepared[] {
  const writers = new Map<string | undefined, number>();
  const firstSeen = new Map<string | undefined, number>();
  for (const op of ops) {
    if (op.kind === 'put') writers.set(op.value, (writers.get(op.value) ?? 0) + 1);
    else if (op.ret !== undefined) firstSeen.set(op.value, Math.min(firstSeen.get(op.value) ?? Infinity, op.ret));
  }
  const out: Prepared[] = [];
  for (const op of ops) {
    if (op.ret !== undefined) {
      out.push({ op, ret: op.ret });
      continue;
    }
    if (op.kind === 'get') continue;
    const seen = firstSeen.get(op.value);
    if (seen === undefined) continue; // nobody observed it: "never happened" is always a valid choice
    const unique = writers.get(op.value) === 1;
    // A get can only observe a write that was invoked before the get returned; if this one was
    // not, leave it at +Infinity and let the search explain the read from the future.
    out.push({ op, ret: unique && seen >= op.call ? seen : Infinity });
  }
  return out;
}

/** A node of the doubly linked event list the search walks and edits. */
interface Event {
  id: number;
  isCall: boolean;
  time: number;
  /** For a call, its return event. */
  match: Event | undefined;
  prev: Event | undefined;
  next: Event | undefined;
}

/** The deepest point the search reached, kept to explain a failure. */
interface Stuck {
  depth: number;
  /** The last operations of the partial linearization there, oldest first. */
  tail: number[];
  value: string | undefined;
  /** The operation whose return was reached before it could be linearized. */
  blocked: number;
  /** Operations that were pending (invoked, not linearized) at that point. */
  candidates: number[];
}

/** The Wing–Gong/Lowe search over the history of one key. */
class RegisterSearch {
  private readonly head: Event;
  private readonly ops: KvOperation[];
  private readonly rets: number[];
  /** Zobrist keys: the hash of a set of linearized operations is the XOR of theirs. */
  private readonly zobrist: Uint32Array;
  private readonly bits: Uint32Array;
  private hash = 0;
  private readonly valueIds = new Map<string | undefined, number>([[undefined, 0]]);
  private readonly cache = new Map<number, Array<{ bits: Uint32Array; value: number }>>();
  private best: Stuck | undefined;

  constructor(
    private readonly key: string,
    prepared: Prepared[],
    private readonly deadline: number,
  ) {
    this.ops = prepared.map((p) => p.op);
    this.rets = prepared.map((p) => p.ret);
    this.bits = new Uint32Array(Math.ceil(prepared.length / 32) + 1);
    this.zobrist = new Uint32Array(prepared.length);
    // A fixed-seed generator: the checker itself must be deterministic.
    let x = 0x2545f491;
    for (let i = 0; i < prepared.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.zobrist[i] = x >>> 0;
    }
    this.head = this.buildList();
  }

  /** The events in time order; at equal times calls come first (touching = concurrent). */
  private buildList(): Event {
    const events: Event[] = [];
    this.ops.forEach((op, id) => {
      const ret: Event = { id, isCall: false, time: this.rets[id]!, match: undefined, prev: undefined, next: undefined };
      events.push({ id, isCall: true, time: op.call, match: ret, prev: undefined, next: undefined }, ret);
    });
    events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1));
    const head: Event = { id: -1, isCall: false, time: -Infinity, match: undefined, prev: undefined, next: undefined };
    let prev = head;
    for (const e of events) {
      prev.next = e;
      e.prev = prev;
      prev = e;
    }
    return head;
  }

  private valueId(v: string | undefined): number {
    let id = this.valueIds.get(v);
    if (id === undefined) this.valueIds.set(v, (id = this.valueIds.size));
    return id;
  }

  /** The sequential specification of a register: a put always succeeds; a get must match. */
  private step(value: string | undefined, op: KvOperation): { ok: boolean; value: string | undefined } {
    if (op.kind === 'put') return { ok: true, value: op.value };
    return { ok: op.value === value, value };
  }

  /** Records (linearized set ∪ {id}, value) as visited; false if it was visited already. */
  private remember(id: number, value: string | undefined): boolean {
    const vid = this.valueId(value);
    const h = ((this.hash ^ this.zobrist[id]!) ^ Math.imul(vid + 1, 0x9e3779b1)) >>> 0;
    this.bits[id >> 5]! ^= 1 << (id & 31);
    let bucket = this.cache.get(h);
    if (bucket === undefined) this.cache.set(h, (bucket = []));
    const seen = bucket.some((c) => c.value === vid && equalBits(c.bits, this.bits));
    if (!seen) bucket.push({ bits: this.bits.slice(), value: vid });
    this.bits[id >> 5]! ^= 1 << (id & 31);
    return !seen;
  }

  run(): LinearizabilityResult {
    const stack: Array<{ call: Event; value: string | undefined }> = [];
    let value: string | undefined = undefined;
    let entry = this.head.next;
    let steps = 0;
    while (this.head.next !== undefined) {
      if (++steps % CLOCK_EVERY === 0 && performance.now() > this.deadline) {
        return { ok: 'unknown', key: this.key, reason: `time budget exhausted after ${steps} search steps with ${stack.length} of ${this.ops.length} operations linearized` };
      }
      if (entry!.isCall) {
        const op = this.ops[entry!.id]!;
        const r = this.step(value, op);
        if (r.ok && this.remember(entry!.id, r.value)) {
          stack.push({ call: entry!, value });
          value = r.value;
          this.setLinearized(entry!.id);
          lift(entry!);
          entry = this.head.next;
          continue;
        }
        entry = entry!.next;
        continue;
      }
      // A return: its operation must already have taken effect. Backtrack.
      this.noteStuck(stack, value, entry!);
      const top = stack.pop();
      if (top === undefined) return { ok: false, key: this.key, explanation: this.explain() };
      value = top.value;
      this.setLinearized(top.call.id);
      unlift(top.call);
      entry = top.call.next;
    }
    return { ok: true };
  }

  /** Toggles operation `id` in the linearized set (and its hash). */
  private setLinearized(id: number): void {
    this.bits[id >> 5]! ^= 1 << (id & 31);
    this.hash = (this.hash ^ this.zobrist[id]!) >>> 0;
  }

  private noteStuck(stack: Array<{ call: Event }>, value: string | undefined, ret: Event): void {
    if (this.best !== undefined && this.best.depth >= stack.length) return;
    const candidates: number[] = [];
    for (let e = this.head.next; e !== undefined && e !== ret && candidates.length < SHOWN; e = e.next) {
      if (e.isCall && e.id !== ret.id) candidates.push(e.id);
    }
    this.best = {
      depth: stack.length,
      tail: stack.slice(-SHOWN).map((s) => s.call.id),
      value,
      blocked: ret.id,
      candidates,
    };
  }

  /** A failure report that names the operations a human should look at first. */
  private explain(): string {
    const b = this.best!;
    const show = (id: number): string => formatOperation(this.ops[id]!, this.rets[id]!);
    const lines: string[] = [];
    lines.push(`no linearization exists for key ${JSON.stringify(this.key)} (${this.ops.length} operations).`);
    lines.push(`The longest consistent order found linearizes ${b.depth} of them${b.depth > 0 ? `, ending with:` : '.'}`);
    for (const id of b.tail) lines.push(`    ${show(id)}`);
    lines.push(`  after which the key holds ${fmtValue(b.value)}.`);
    const op = this.ops[b.blocked]!;
    lines.push(`Then this operation must take effect before it returns, and cannot:`);
    lines.push(`    ${show(b.blocked)}`);
    if (op.kind === 'get') lines.push(`  it observed ${fmtValue(op.value)}; ${this.writersOf(op.value, show)}`);
    if (b.candidates.length > 0) {
      lines.push(`  Operations that could go first instead (each was tried and leads to a contradiction):`);
      for (const id of b.candidates) lines.push(`    ${show(id)}`);
    }
    return lines.join('\n');
  }

  private writersOf(value: string | undefined, show: (id: number) => string): string {
    if (value === undefined) return 'the key is absent only before its first put.';
    const writers = this.ops.map((o, id) => ({ o, id })).filter((w) => w.o.kind === 'put' && w.o.value === value);
    if (writers.length === 0) return 'no put in the history wrote that value.';
    return `written by ${writers.slice(0, SHOWN).map((w) => show(w.id)).join('; ')}.`;
  }
}

/** Removes a call and its return from the list (the operation is linearized). */
function lift(call: Event): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Undoes {@link lift}; must be called in reverse order of the lifts (a stack). */
function unlift(call: Event): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

function equalBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function fmtValue(v: string | undefined): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

function fmtTime(t: number | undefined): string {
  return t === undefined || t === Infinity ? '∞' : String(Math.round(t * 1e6) / 1e6);
}

/**
 * One operation for a human: `client 2 get "k" -> "v" [call 10, ret 12]`. `effectiveRet`, when
 * it differs from the recorded one, is shown too (an indeterminate put bounded by a read).
 */
export function formatOperation(op: KvOperation, effectiveRet?: number): string {
  const what = op.kind === 'put' ? `put ${JSON.stringify(op.key)} = ${fmtValue(op.value)}` : `get ${JSON.stringify(op.key)} -> ${fmtValue(op.value)}`;
  const ret = op.ret === undefined ? `ret ∞ (indeterminate${effectiveRet !== undefined && effectiveRet !== Infinity ? `, took effect by ${fmtTime(effectiveRet)} as a read saw it` : ''})` : `ret ${fmtTime(op.ret)}`;
  return `client ${op.client} ${what} [call ${fmtTime(op.call)}, ${ret}]`;
}
