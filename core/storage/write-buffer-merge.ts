/**
 * Merged iteration of the inner backend's entries with layers of pending changes: the sorted
 * union of keys, where for a key present in several sources the newest layer wins and a
 * tombstone hides the key. Lazy: pulls from each source only as far as needed, so a `limit`
 * stops the inner cursor early. Order and bounds are the sources' (all must iterate the same
 * range in the same direction); `limit` counts yielded entries only, never hidden ones.
 */
import { Entry } from './backend';
import { LayerChange } from './write-buffer-layer';

/** One source's current head. */
interface Head {
  key: string;
  /** Position in priority: 0 is the inner backend, higher is newer. */
  rank: number;
  entry?: Entry;
  change?: LayerChange;
}

type LayerIterator = Iterator<[string, LayerChange]>;

/**
 * Yields the merged entries. `layers` are ordered oldest first; `reverse` must match the
 * direction the sources were opened with.
 */
export function* mergeIterate(inner: Iterable<Entry>, layers: LayerIterator[], reverse: boolean, limit: number | undefined): Iterable<Entry> {
  if (limit !== undefined && limit <= 0) return;
  const innerIt = inner[Symbol.iterator]();
  const heads: Array<Head | undefined> = [pullInner(innerIt), ...layers.map((it, i) => pullLayer(it, i + 1))];
  let yielded = 0;
  try {
    for (;;) {
      const key = nextKey(heads, reverse);
      if (key === undefined) return;
      let winner: Head | undefined;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (!h || h.key !== key) continue;
        if (!winner || h.rank > winner.rank) winner = h;
        heads[i] = i === 0 ? pullInner(innerIt) : pullLayer(layers[i - 1]!, i);
      }
      const out = winner!.entry ?? (winner!.change!.value ? { key: winner!.change!.key, value: winner!.change!.value } : undefined);
      if (!out) continue;
      yield out;
      if (limit !== undefined && ++yielded >= limit) return;
    }
  } finally {
    // Stopping early (limit, or the caller's break) must release the inner cursor.
    innerIt.return?.();
  }
}

function nextKey(heads: Array<Head | undefined>, reverse: boolean): string | undefined {
  let best: string | undefined;
  for (const h of heads) {
    if (!h) continue;
    if (best === undefined || (reverse ? h.key > best : h.key < best)) best = h.key;
  }
  return best;
}

function pullInner(it: Iterator<Entry>): Head | undefined {
  const r = it.next();
  if (r.done) return undefined;
  return { key: r.value.key.toString('latin1'), rank: 0, entry: r.value };
}

function pullLayer(it: LayerIterator, rank: number): Head | undefined {
  const r = it.next();
  if (r.done) return undefined;
  return { key: r.value[0], rank, change: r.value[1] };
}
