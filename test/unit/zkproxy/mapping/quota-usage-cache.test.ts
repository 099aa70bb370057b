/**
 * The quota usage kept by deltas (quota-usage-cache.ts) equals a fresh count of the subtree
 * after any sequence of creates, deletes and data changes; and limits parse as StatsTrack does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuotaUsageCache } from '../../../../zkproxy/mapping/quota-usage-cache';
import { parseQuotaLimits } from '../../../../zkproxy/mapping/quota-stats';
import { baseName, parentOf } from '../../../../zkproxy/mapping/path-rules';

/** A toy tree: path → data length, children derived. */
class ToyTree {
  readonly nodes = new Map<string, number>([['/', 0]]);
  readonly view = {
    dataLength: (p: string): number | undefined => this.nodes.get(p),
    childrenOf: (p: string): ReadonlySet<string> =>
      new Set([...this.nodes.keys()].filter((k) => k !== '/' && parentOf(k) === p).map(baseName)),
  };
}

/** Deterministic pseudo-random numbers (a fixed seed keeps a failure reproducible). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('usage kept by deltas equals a recount after 2,000 random changes', () => {
  const tree = new ToyTree();
  const cache = new QuotaUsageCache(tree.view);
  const targets = ['/a', '/a/b', '/c', '/nope'];
  for (const t of targets) cache.of(t); // tracked from the start, most of them still absent
  const rand = rng(7);
  const names = ['a', 'b', 'c', 'd'];
  for (let i = 0; i < 2000; i++) {
    const paths = [...tree.nodes.keys()];
    const at = paths[Math.floor(rand() * paths.length)]!;
    const r = rand();
    if (r < 0.45) {
      const path = (at === '/' ? '' : at) + '/' + names[Math.floor(rand() * names.length)];
      if (tree.nodes.has(path)) continue;
      const len = Math.floor(rand() * 20);
      tree.nodes.set(path, len);
      cache.changed(path, 1, len);
    } else if (r < 0.75) {
      if (at === '/' || tree.view.childrenOf(at).size > 0) continue;
      const len = tree.nodes.get(at)!;
      tree.nodes.delete(at);
      cache.changed(at, -1, -len);
    } else {
      const before = tree.nodes.get(at)!;
      const len = Math.floor(rand() * 20);
      tree.nodes.set(at, len);
      cache.changed(at, 0, len - before);
    }
  }
  const fresh = new QuotaUsageCache(tree.view);
  assert.ok(fresh.of('/a').count > 3, 'the walk built a subtree worth checking');
  for (const t of targets) assert.deepEqual(cache.of(t), fresh.of(t), t);
});

test('a target forgotten or cleared is counted again when asked', () => {
  const tree = new ToyTree();
  const cache = new QuotaUsageCache(tree.view);
  tree.nodes.set('/a', 3);
  assert.deepEqual(cache.of('/a'), { count: 1, bytes: 3 });
  tree.nodes.set('/a/x', 4); // not told: a stale figure until it is forgotten
  cache.forget('/a');
  assert.deepEqual(cache.of('/a'), { count: 2, bytes: 7 });
  tree.nodes.set('/a/y', 1);
  cache.clear();
  assert.deepEqual(cache.of('/a'), { count: 3, bytes: 8 });
});

test('limits parse like StatsTrack: "," or ";" between pairs, an empty value is -1', () => {
  assert.deepEqual(parseQuotaLimits(Buffer.from('count=-1,bytes=-1=;byteHardLimit=10;countHardLimit=3')), { count: -1, bytes: -1, countHardLimit: 3, byteHardLimit: 10 });
  assert.deepEqual(parseQuotaLimits(Buffer.from('count=5,bytes=100')), { count: 5, bytes: 100, countHardLimit: -1, byteHardLimit: -1 });
  assert.deepEqual(parseQuotaLimits('countHardLimit=,other=4,count=x'), { count: -1, bytes: -1, countHardLimit: -1, byteHardLimit: -1 });
  assert.deepEqual(parseQuotaLimits(null), { count: -1, bytes: -1, countHardLimit: -1, byteHardLimit: -1 });
});
