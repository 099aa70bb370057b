/**
 * An ordered map from strings to values: a B+tree with linked leaves.
 *
 * Keys compare with JavaScript's `<` on strings (code-unit order). Keys in the store's index are
 * latin1 strings (one char per byte, see bytes.ts), so this is exactly bytewise key order.
 * Operations are O(log n); iteration from any key is O(log n + k). A sorted array would make every
 * new key an O(n) splice, which a store with a million keys cannot afford.
 */
import { assert } from './assert';
import { lowerBound } from './lower-bound';

const MAX_KEYS = 64;
const MIN_KEYS = MAX_KEYS >> 1;

class Leaf<V> {
  keys: string[] = [];
  values: V[] = [];
  next: Leaf<V> | null = null;
  prev: Leaf<V> | null = null;
}

class Inner<V> {
  /** keys[i] is the smallest key in children[i + 1]. */
  keys: string[] = [];
  children: Node<V>[] = [];
}

type Node<V> = Leaf<V> | Inner<V>;

/** Index of the child of an inner node that may hold `key`. */
function childIndex(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A sorted map with string keys. */
export class OrderedMap<V> {
  private root: Node<V> = new Leaf<V>();
  private count = 0;

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** The value at `key`, or undefined. */
  get(key: string): V | undefined {
    const leaf = this.findLeaf(key);
    const i = lowerBound(leaf.keys, key);
    return i < leaf.keys.length && leaf.keys[i] === key ? leaf.values[i] : undefined;
  }

  /** Sets `key` to `value`, inserting or replacing. */
  set(key: string, value: V): void {
    const split = this.insert(this.root, key, value);
    if (split) {
      const root = new Inner<V>();
      root.keys = [split.key];
      root.children = [this.root, split.node];
      this.root = root;
    }
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: string): boolean {
    const removed = this.remove(this.root, key);
    if (this.root instanceof Inner && this.root.children.length === 1) this.root = this.root.children[0]!;
    return removed;
  }

  /**
   * Calls `fn` for every entry in ascending key order, allocating nothing per entry (the hot
   * path's alternative to {@link range}). `fn` must not modify the map.
   */
  forEach(fn: (key: string, value: V) => void): void {
    for (let leaf: Leaf<V> | null = this.findLeaf(''); leaf; leaf = leaf.next) {
      const { keys, values } = leaf;
      for (let i = 0; i < keys.length; i++) fn(keys[i]!, values[i]!);
    }
  }

  /**
   * Entries with start ≤ key < end in ascending order (`end` undefined: to the last key). The
   * map must not be modified while the iterator is in use.
   */
  *range(start: string, end?: string): IterableIterator<[string, V]> {
    let leaf: Leaf<V> | null = this.findLeaf(start);
    let i = lowerBound(leaf.keys, start);
    while (leaf) {
      for (; i < leaf.keys.length; i++) {
        const k = leaf.keys[i]!;
        if (end !== undefined && k >= end) return;
        yield [k, leaf.values[i]!];
      }
      leaf = leaf.next;
      i = 0;
    }
  }

  /** Entries with start ≤ key < end in descending order. */
  *rangeReverse(start: string, end?: string): IterableIterator<[string, V]> {
    let leaf: Leaf<V> | null;
    let i: number;
    if (end === undefined) {
      leaf = this.lastLeaf();
      i = leaf.keys.length - 1;
    } else {
      leaf = this.findLeaf(end);
      i = lowerBound(leaf.keys, end) - 1;
    }
    while (leaf) {
      for (; i >= 0; i--) {
        const k = leaf.keys[i]!;
        if (k < start) return;
        yield [k, leaf.values[i]!];
      }
      leaf = leaf.prev;
      i = leaf ? leaf.keys.length - 1 : -1;
    }
  }

  private findLeaf(key: string): Leaf<V> {
    let node = this.root;
    while (node instanceof Inner) node = node.children[childIndex(node.keys, key)]!;
    return node;
  }

  private lastLeaf(): Leaf<V> {
    let node = this.root;
    while (node instanceof Inner) node = node.children[node.children.length - 1]!;
    return node;
  }

  private insert(node: Node<V>, key: string, value: V): { key: string; node: Node<V> } | null {
    if (node instanceof Leaf) {
      const i = lowerBound(node.keys, key);
      if (i < node.keys.length && node.keys[i] === key) {
        node.values[i] = value;
        return null;
      }
      node.keys.splice(i, 0, key);
      node.values.splice(i, 0, value);
      this.count++;
      return node.keys.length > MAX_KEYS ? this.splitLeaf(node) : null;
    }
    const ci = childIndex(node.keys, key);
    const split = this.insert(node.children[ci]!, key, value);
    if (!split) return null;
    node.keys.splice(ci, 0, split.key);
    node.children.splice(ci + 1, 0, split.node);
    return node.keys.length > MAX_KEYS ? this.splitInner(node) : null;
  }

  private splitLeaf(leaf: Leaf<V>): { key: string; node: Node<V> } {
    const right = new Leaf<V>();
    const mid = leaf.keys.length >> 1;
    right.keys = leaf.keys.splice(mid);
    right.values = leaf.values.splice(mid);
    right.next = leaf.next;
    if (right.next) right.next.prev = right;
    right.prev = leaf;
    leaf.next = right;
    return { key: right.keys[0]!, node: right };
  }

  private splitInner(node: Inner<V>): { key: string; node: Node<V> } {
    const right = new Inner<V>();
    const mid = node.keys.length >> 1;
    const up = node.keys[mid]!;
    right.keys = node.keys.splice(mid + 1);
    node.keys.pop();
    right.children = node.children.splice(mid + 1);
    assert(node.children.length === node.keys.length + 1, 'inner split keeps arity');
    return { key: up, node: right };
  }

  private remove(node: Node<V>, key: string): boolean {
    if (node instanceof Leaf) {
      const i = lowerBound(node.keys, key);
      if (i >= node.keys.length || node.keys[i] !== key) return false;
      node.keys.splice(i, 1);
      node.values.splice(i, 1);
      this.count--;
      return true;
    }
    const ci = childIndex(node.keys, key);
    const child = node.children[ci]!;
    const removed = this.remove(child, key);
    if (removed && child.keys.length < MIN_KEYS) this.rebalance(node, ci);
    return removed;
  }

  /** Restores the minimum fill of `parent.children[ci]` by borrowing from or merging with a sibling. */
  private rebalance(parent: Inner<V>, ci: number): void {
    const si = ci > 0 ? ci - 1 : ci + 1;
    if (si >= parent.children.length) return; // the root's only child
    const [li, ri] = si < ci ? [si, ci] : [ci, si];
    const left = parent.children[li]!;
    const right = parent.children[ri]!;
    if (left.keys.length + right.keys.length <= MAX_KEYS) this.merge(parent, li, left, right);
    else this.borrow(parent, li, left, right);
  }

  private merge(parent: Inner<V>, li: number, left: Node<V>, right: Node<V>): void {
    if (left instanceof Leaf && right instanceof Leaf) {
      left.keys.push(...right.keys);
      left.values.push(...right.values);
      left.next = right.next;
      if (left.next) left.next.prev = left;
    } else if (left instanceof Inner && right instanceof Inner) {
      left.keys.push(parent.keys[li]!, ...right.keys);
      left.children.push(...right.children);
    }
    parent.keys.splice(li, 1);
    parent.children.splice(li + 1, 1);
  }

  private borrow(parent: Inner<V>, li: number, left: Node<V>, right: Node<V>): void {
    if (left instanceof Leaf && right instanceof Leaf) {
      if (left.keys.length < right.keys.length) {
        left.keys.push(right.keys.shift()!);
        left.values.push(right.values.shift()!);
      } else {
        right.keys.unshift(left.keys.pop()!);
        right.values.unshift(left.values.pop()!);
      }
      parent.keys[li] = right.keys[0]!;
    } else if (left instanceof Inner && right instanceof Inner) {
      if (left.keys.length < right.keys.length) {
        left.keys.push(parent.keys[li]!);
        left.children.push(right.children.shift()!);
        parent.keys[li] = right.keys.shift()!;
      } else {
        right.keys.unshift(parent.keys[li]!);
        right.children.unshift(left.children.pop()!);
        parent.keys[li] = left.keys.pop()!;
      }
    }
  }
}
