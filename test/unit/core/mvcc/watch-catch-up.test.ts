/**
 * The watch hub with many watchers: unsynced watchers at different revisions catch up from one
 * shared history scan per round and each gets exactly its own events (checked against a model
 * of the write history, prev_kv and filters included, through several rounds and on into live
 * events); range watchers on other ranges are not consulted for an event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRand } from '../../../../core/util/rand';
import { WATCH_BATCH_MAX_REVISIONS } from '../../../../core/util/limits';
import { WatchEvent, Watcher, WatchOptions } from '../../../../core/mvcc/watcher';
import { ReadTxn } from '../../../../core/storage/backend';
import { b, Harness } from './mvcc-harness';

/** One write of the model history. */
interface Change {
  rev: number;
  type: 'put' | 'delete';
  key: string;
  value: string;
  prev: string | undefined;
}

const KEYS = ['a', 'a/1', 'a/2', 'b', 'b/1', 'c'];
/** Watch ranges: [key, rangeEnd] ('' = single key, '\0' = every key from key). */
const RANGES: [string, string][] = [['a', ''], ['a/', 'a0'], ['b', 'c'], ['\0', '\0'], ['b/', '\0'], ['c', ''], ['zz', '']];

const show = (e: WatchEvent): string => `${e.type}:${e.kv.key}@${e.kv.modRevision}=${e.kv.value}/prev=${e.prevKv?.value.toString() ?? '-'}`;

function expected(history: Change[], o: WatchOptions): string[] {
  const lo = o.key.toString('latin1');
  const end = o.rangeEnd.toString('latin1');
  const holds = (k: string): boolean => (end === '' ? k === lo : k >= lo && (end === '\0' || k < end));
  return history
    .filter((c) => c.rev >= o.startRevision && holds(c.key) && !(c.type === 'put' ? o.noPut : o.noDelete))
    .map((c) => `${c.type}:${c.key}@${c.rev}=${c.type === 'put' ? c.value : ''}/prev=${o.prevKv ? c.prev ?? '-' : '-'}`);
}

/** Lets catch-up rounds run (each on its own turn) until `done`, for at most 200 turns. */
async function settle(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setImmediate(r));
}

/** Random puts and deletes over {@link KEYS}, recorded in `history` as the model sees them. */
function writer(h: Harness, rand: SeededRand, history: Change[]): () => Promise<void> {
  const current = new Map<string, string>();
  return async (): Promise<void> => {
    const key = KEYS[rand.intn(KEYS.length)]!;
    const prev = current.get(key);
    if (prev !== undefined && rand.intn(4) === 0) {
      const out = await h.apply({ type: 'deleteRange', deleteRange: { key: b(key), rangeEnd: b(''), prevKv: false } });
      history.push({ rev: out.revision, type: 'delete', key, value: '', prev });
      current.delete(key);
    } else {
      const value = `v${history.length}`;
      const out = await h.put(key, value);
      history.push({ rev: out.revision, type: 'put', key, value, prev });
      current.set(key, value);
    }
  };
}

test('watch: watchers at many start revisions catch up from shared scans, each with exactly its events', async () => {
  const h = new Harness();
  const rand = new SeededRand(7);
  const history: Change[] = [];
  const write = writer(h, rand, history);
  try {
    // More than two catch-up rounds of history.
    for (let i = 0; i < WATCH_BATCH_MAX_REVISIONS * 2 + 300; i++) await write();
    const top = h.kv.readRevision;
    const watchers: { options: WatchOptions; got: WatchEvent[] }[] = [];
    for (let i = 0; i < 80; i++) {
      const [key, rangeEnd] = RANGES[rand.intn(RANGES.length)]!;
      const options: WatchOptions = {
        key: b(key), rangeEnd: b(rangeEnd), startRevision: 1 + rand.intn(top), prevKv: rand.intn(2) === 0,
        noPut: rand.intn(6) === 0, noDelete: rand.intn(6) === 0,
      };
      const got: WatchEvent[] = [];
      watchers.push({ options, got });
      h.watches.watch(options, { send: (e) => (got.push(...e), true), compacted: () => assert.fail('not compacted') });
    }
    // Count the history scans the catch-up makes (prev_kv lookups read single records instead).
    const read = h.backend.read.bind(h.backend);
    let scans = 0;
    h.backend.read = ((fn: (txn: ReadTxn) => unknown) =>
      read((txn) => fn({ get: (db, key) => txn.get(db, key), iterate: (db, o) => (scans++, txn.iterate(db, o)) }))) as typeof h.backend.read;
    await settle(() => watchers.every((w) => w.got.length >= expected(history, w.options).length));
    h.backend.read = read;
    const rounds = Math.ceil(top / WATCH_BATCH_MAX_REVISIONS);
    assert.ok(scans <= rounds, `${scans} history scans for ${watchers.length} watchers over ${top} revisions (at most ${rounds}: one per round)`);
    // Live writes after the catch-up: no gap, no duplicate.
    for (let i = 0; i < 50; i++) await write();
    for (const [i, w] of watchers.entries()) {
      assert.deepEqual(w.got.map(show), expected(history, w.options), `watcher ${i} (${JSON.stringify({ ...w.options, key: w.options.key.toString(), rangeEnd: w.options.rangeEnd.toString() })})`);
    }
  } finally {
    await h.close();
  }
});

test('watch: a watcher whose sink fills up during catch-up resumes where it stopped, losing nothing', async () => {
  // A stream's sink writes what it is given and returns false when its buffer is full; the
  // watcher must then wait for resume() and go on from the next revision, not from the head.
  const h = new Harness();
  const rand = new SeededRand(11);
  const history: Change[] = [];
  const write = writer(h, rand, history);
  try {
    for (let i = 0; i < WATCH_BATCH_MAX_REVISIONS * 3; i++) await write();
    const watchers = RANGES.map(([key, rangeEnd]) => {
      const options: WatchOptions = { key: b(key), rangeEnd: b(rangeEnd), startRevision: 1, prevKv: true, noPut: false, noDelete: false };
      const got: WatchEvent[] = [];
      let sends = 0;
      const handle = h.watches.watch(options, {
        send: (e) => {
          got.push(...e);
          setImmediate(() => handle.resume());
          return ++sends % 2 === 0; // every other send finds the buffer full
        },
        compacted: () => assert.fail('not compacted'),
      });
      return { options, got };
    });
    await settle(() => watchers.every((w) => w.got.length >= expected(history, w.options).length));
    for (let i = 0; i < 50; i++) await write();
    await settle(() => watchers.every((w) => w.got.length >= expected(history, w.options).length));
    for (const [i, w] of watchers.entries()) assert.deepEqual(w.got.map(show), expected(history, w.options), `watcher ${i} (range ${JSON.stringify(RANGES[i])})`);
  } finally {
    await h.close();
  }
});

test('watch: an event consults only the watchers whose key or range holds it', async () => {
  const h = new Harness();
  const accepts = Watcher.prototype.accepts;
  let checks = 0;
  Watcher.prototype.accepts = function (this: Watcher, ...args: Parameters<Watcher['accepts']>) {
    checks++;
    return accepts.apply(this, args);
  };
  try {
    const got: string[] = [];
    const sink = (name: string) => ({ send: (e: WatchEvent[]) => (got.push(...e.map((x) => `${name}:${x.kv.key}`)), true), compacted: () => assert.fail('not compacted') });
    const watch = (key: string, rangeEnd: string, name: string): void => {
      h.watches.watch({ key: b(key), rangeEnd: b(rangeEnd), startRevision: 0, prevKv: false, noPut: false, noDelete: false }, sink(name));
    };
    for (let i = 0; i < 1000; i++) watch(`p/${i}/`, `p/${i}0`, `p${i}`);
    watch('h', 'i', 'range');
    watch('hot', '', 'hot');
    checks = 0;
    await h.put('hot', '1');
    await h.put('p/42/x', '1');
    assert.deepEqual(got.sort(), ['hot:hot', 'p42:p/42/x', 'range:hot']);
    assert.equal(checks, 3, 'the key\'s own watcher and the range watchers holding each key, of 1,002');
  } finally {
    Watcher.prototype.accepts = accepts;
    await h.close();
  }
});
