/**
 * A set of items, each with a half-open key interval [lo, hi), that finds the items whose
 * interval holds a given key in O(log n + matches) expected time: the watch hub's range
 * watchers, so that an event costs the watchers it may concern and not every range watcher
 * there is (etcd keeps them in an interval tree for the same reason).
 *
 * A treap ordered by (lo, insertion number), each node also holding the largest `hi` in its
 * subtree so that a search skips every subtree that ends at or before the key. Keys compare with
 * `<` on strings, which for the store's latin1 key strings is bytewise order (see bytes.ts).
 * `hi` undefined means unbounded. Priorities come from a hash of the insertion number, not from
 * a random source: the shape is then the same on every run (the simulator replays by seed),
 * and the keys a client picks cannot unbalance it because they do not choose the priorities.
 */

interface Node<T> {
  readonly item: T;
  readonly lo: string;
  /** Exclusive end; undefined = unbounded. */
  readonly hi: string | undefined;
  /** Insertion number: breaks ties between equal `lo` and seeds the priority. */
  readonly seq: number;
  readonly priority: number;
  left: Node<T> | null;
  right: Node<T> | null;
  /** The largest `hi` in this subtree (undefined = unbounded). */
  maxHi: string | undefined;
}

/** `a` < `b` where undefined is +∞. */
function endBefore(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined) return false;
  return b === undefined || a < b;
}

/** A well-mixed 32-bit hash of `n` (murmur3's finaliser). */
function mix(n: number): number {
  let h = n | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Node `a` orders before node `b` (by lo, then insertion). */
function before<T>(a: Node<T>, b: Node<T>): boolean {
  return a.lo < b.lo || (a.lo === b.lo && a.seq < b.seq);
}

function update<T>(n: Node<T>): Node<T> {
  let m = n.hi;
  if (n.left && endBefore(m, n.left.maxHi)) m = n.left.maxHi;
  if (n.right && endBefore(m, n.right.maxHi)) m = n.right.maxHi;
  n.maxHi = m;
  return n;
}

function rotateRight<T>(n: Node<T>): Node<T> {
  const l = n.left!;
  n.left = l.right;
  l.right = update(n);
  return update(l);
}

function rotateLeft<T>(n: Node<T>): Node<T> {
  const r = n.right!;
  n.right = r.left;
  r.left = update(n);
  return update(r);
}

function insertNode<T>(root: Node<T> | null, n: Node<T>): Node<T> {
  if (root === null) return n;
  if (before(n, root)) {
    root.left = insertNode(root.left, n);
    if (root.left.priority > root.priority) return rotateRight(root);
  } else {
    root.right = insertNode(root.right, n);
    if (root.right.priority > root.priority) return rotateLeft(root);
  }
  return update(root);
}

/** Joins two treaps where every node of `a` orders before every node of `b`. */
function join<T>(a: Node<T> | null, b: Node<T> | null): Node<T> | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.priority > b.priority) {
    a.right = join(a.right, b);
    return update(a);
  }
  b.left = join(a, b.left);
  return update(b);
}

function removeNode<T>(root: Node<T> | null, n: Node<T>): Node<T> | null {
  if (root === null) return null;
  if (root === n) return join(root.left, root.right);
  if (before(n, root)) root.left = removeNode(root.left, n);
  else root.right = removeNode(root.right, n);
  return update(root);
}

/** Items keyed by half-open string intervals, searchable by the key they hold. */
export class IntervalTree<T> {
  private root: Node<T> | null = null;
  private readonly nodes = new Map<T, Node<T>>();
  private inserted = 0;

  /** Number of items held. */
  get size(): number {
    return this.nodes.size;
  }

  /**
   * Adds `item` with interval [lo, hi) (`hi` undefined: unbounded). No effect when `item` is
   * held already (its first interval stays). An empty interval (hi ≤ lo) never holds a key.
   */
  add(item: T, lo: string, hi: string | undefined): void {
    if (this.nodes.has(item)) return;
    const seq = ++this.inserted;
    const n: Node<T> = { item, lo, hi, seq, priority: mix(seq), left: null, right: null, maxHi: hi };
    this.nodes.set(item, n);
    this.root = insertNode(this.root, n);
  }

  /** Removes `item`; true when it was held. */
  delete(item: T): boolean {
    const n = this.nodes.get(item);
    if (n === undefined) return false;
    this.nodes.delete(item);
    this.root = removeNode(this.root, n);
    return true;
  }

  /** Calls `fn` for every item whose interval holds `key`, in (lo, insertion) order. */
  forEachHolding(key: string, fn: (item: T) => void): void {
    visit(this.root, key, fn);
  }

  /** Every item held, in (lo, insertion) order. */
  values(): T[] {
    const out: T[] = [];
    const walk = (n: Node<T> | null): void => {
      if (n === null) return;
      walk(n.left);
      out.push(n.item);
      walk(n.right);
    };
    walk(this.root);
    return out;
  }
}

function visit<T>(n: Node<T> | null, key: string, fn: (item: T) => void): void {
  // Nothing in this subtree ends after `key`: no interval here holds it.
  while (n !== null && endBefore(key, n.maxHi)) {
    visit(n.left, key, fn);
    // This node and its whole right subtree start after `key`.
    if (key < n.lo) return;
    if (endBefore(key, n.hi)) fn(n.item);
    n = n.right;
  }
}
