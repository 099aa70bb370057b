/**
 * IntervalTree against a naive model (a list scanned in full): after random adds and deletes,
 * the items whose interval holds a key must be exactly the model's, in (lo, insertion) order;
 * size and values must agree; and the tree must stay a valid treap whose subtree ends are
 * right (a wrong `maxHi` would silently skip watchers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IntervalTree } from '../../core/util/interval-tree';

const keyArb = fc.string({ minLength: 0, maxLength: 3, unit: fc.constantFrom('a', 'b', 'c', '\0', '\xff') });
const opArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('add' as const), item: fc.nat(40), lo: keyArb, hi: fc.option(keyArb) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('del' as const), item: fc.nat(40) }) },
);

interface Held {
  item: number;
  lo: string;
  hi: string | undefined;
  order: number;
}

const holds = (h: Held, key: string): boolean => key >= h.lo && (h.hi === undefined || key < h.hi);
const byLoThenOrder = (a: Held, b: Held): number => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : a.order - b.order);

test('IntervalTree finds exactly the intervals holding a key, in order', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 300 }), fc.array(keyArb, { minLength: 1, maxLength: 8 }), (ops, probes) => {
      const tree = new IntervalTree<number>();
      const model = new Map<number, Held>();
      let order = 0;
      for (const o of ops) {
        if (o.op === 'add') {
          tree.add(o.item, o.lo, o.hi ?? undefined);
          if (!model.has(o.item)) model.set(o.item, { item: o.item, lo: o.lo, hi: o.hi ?? undefined, order: order++ });
        } else {
          assert.equal(tree.delete(o.item), model.delete(o.item));
        }
      }
      const sorted = [...model.values()].sort(byLoThenOrder);
      assert.equal(tree.size, model.size);
      assert.deepEqual(tree.values(), sorted.map((h) => h.item));
      for (const key of probes) {
        const got: number[] = [];
        tree.forEachHolding(key, (item) => got.push(item));
        assert.deepEqual(got, sorted.filter((h) => holds(h, key)).map((h) => h.item), `key ${JSON.stringify(key)}`);
      }
      checkShape(tree);
    }),
    { numRuns: 400 },
  );
});

test('IntervalTree stays shallow when intervals arrive in key order', () => {
  // Sorted inserts are the worst case of an unbalanced search tree (a list); the treap's hashed
  // priorities must keep the depth logarithmic, or every event would walk the whole list.
  const tree = new IntervalTree<number>();
  const n = 50_000;
  for (let i = 0; i < n; i++) tree.add(i, `/w/${String(i).padStart(6, '0')}/`, `/w/${String(i).padStart(6, '0')}0`);
  const depth = checkShape(tree);
  assert.ok(depth < 60, `depth ${depth} for ${n} sorted inserts`);
  const got: number[] = [];
  tree.forEachHolding('/w/012345/x', (i) => got.push(i));
  assert.deepEqual(got, [12345]);
  for (let i = 0; i < n; i += 2) tree.delete(i);
  assert.equal(tree.size, n / 2);
  got.length = 0;
  tree.forEachHolding('/w/012345/x', (i) => got.push(i));
  tree.forEachHolding('/w/012344/x', (i) => got.push(i));
  assert.deepEqual(got, [12345], 'a deleted interval holds nothing');
  checkShape(tree);
});

interface ShapeNode {
  lo: string;
  hi: string | undefined;
  seq: number;
  priority: number;
  left: ShapeNode | null;
  right: ShapeNode | null;
  maxHi: string | undefined;
}

/** Asserts heap order on priorities, search order on (lo, seq) and exact maxHi; returns the depth. */
function checkShape(tree: IntervalTree<number>): number {
  const root = (tree as unknown as { root: ShapeNode | null }).root;
  const later = (a: string | undefined, b: string | undefined): string | undefined => (a === undefined || b === undefined ? undefined : a > b ? a : b);
  const walk = (n: ShapeNode | null): { depth: number; maxHi: string | undefined; min: ShapeNode | null; max: ShapeNode | null } => {
    if (n === null) return { depth: 0, maxHi: '', min: null, max: null };
    const l = walk(n.left);
    const r = walk(n.right);
    if (n.left) assert.ok(n.left.priority <= n.priority, 'heap order (left)');
    if (n.right) assert.ok(n.right.priority <= n.priority, 'heap order (right)');
    const lt = (a: ShapeNode, b: ShapeNode): boolean => a.lo < b.lo || (a.lo === b.lo && a.seq < b.seq);
    if (l.max) assert.ok(lt(l.max, n), 'search order (left)');
    if (r.min) assert.ok(lt(n, r.min), 'search order (right)');
    let m = n.hi;
    if (n.left) m = later(m, l.maxHi);
    if (n.right) m = later(m, r.maxHi);
    assert.equal(n.maxHi, m, 'maxHi is the largest end in the subtree');
    return { depth: 1 + Math.max(l.depth, r.depth), maxHi: m, min: l.min ?? n, max: r.max ?? n };
  };
  return walk(root).depth;
}
