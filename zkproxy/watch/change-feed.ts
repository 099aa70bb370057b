/**
 * `ChangeFeed`: the proxy's ONE ordered watch over the whole ZooKeeper key space (DESIGN §5).
 * It loads the tree at a revision R0, then applies every later event revision by revision to
 * the {@link ZnodeTree}, hands the znode changes of each revision to a sink (the watch
 * manager), and only then releases the callbacks waiting for that revision. A reply with zxid
 * R is written from such a callback, so every notification for revisions ≤ R has been written
 * to the socket before it (zk-protocol.md §2.2, §6.2).
 *
 * The store's own progress notifications are NOT used: etcd 3.4 answers a progress request with
 * its current revision even while a watcher still has undelivered events, so trusting it loses
 * events. Instead every ZooKeeper transaction puts the last-change key (key-schema.ts); one
 * linearizable read of it gives the last ZooKeeper revision L and the store revision R, and
 * once the feed has applied L it is known current through R ({@link ChangeFeed.catchUp}).
 * Two positions are kept: `applied` (what the watch delivered; a restarted watch resumes after
 * it) and `tree.revision` (what the tree is known to reflect; replies and waiters use it).
 */
import { Acl } from '../../protocol/jute';
import { KvBackend, KvError, KvEvent, KvWatch } from '../backend/kv-backend';
import { ZK_FEED_WAIT_MS, ZK_LOAD_PAGE_KEYS } from '../limits';
import { ZkLogger } from '../logger';
import { decodeChangeScript } from '../mapping/change-script';
import { attachChangeAcls } from './change-acls';
import { ZnodeTree, NodeChange } from '../mapping/znode-tree';

/** Receives the znode changes of each revision, in revision order. */
export interface ChangeSink {
  onChanges(changes: NodeChange[], revision: number): void;
}

interface Waiter {
  revision: number;
  cb: () => void;
}

/** Interval of the progress lines while the tree loads. */
const LOAD_PROGRESS_MS = 3000;

/** The ordered change feed and revision waiters. */
export class ChangeFeed {
  private watch: KvWatch | undefined;
  private waiters: Waiter[] = [];
  private sinks: ChangeSink[] = [];
  private closed = false;
  /** The last revision the watch itself delivered (restarts resume after it). */
  private applied = 0;
  /** Consecutive watch failures (restart back-off). */
  private failures = 0;
  private restartTimer: NodeJS.Timeout | undefined;

  /** The last-change key, whose value may carry a multi's change script. */
  private readonly lastChangeKey: Buffer;

  /** @param loadProgressMs interval of the progress lines while the tree loads */
  constructor(
    private readonly backend: KvBackend,
    readonly tree: ZnodeTree,
    private readonly logger: ZkLogger,
    private readonly loadProgressMs = LOAD_PROGRESS_MS,
  ) {
    this.lastChangeKey = tree.keys.errorKey();
  }

  /** Adds a receiver of znode changes. */
  addSink(sink: ChangeSink): void {
    this.sinks.push(sink);
  }

  /** Loads the whole key space at one revision, then starts the watch after it. */
  async start(): Promise<void> {
    const rev = await this.load(this.tree);
    this.applied = rev;
    this.startWatch(rev + 1);
  }

  /**
   * Makes the tree current as of now (ZooKeeper's sync): a linearizable read of the
   * last-change key gives the last ZooKeeper revision L and the store revision R; once the feed
   * has applied L, nothing of ours happened in (L, R], so the tree reflects R. Resolves with R.
   */
  async catchUp(): Promise<number> {
    const res = await this.backend.range(this.tree.keys.errorKey());
    const last = res.kvs[0]?.modRevision ?? 0;
    await this.reach(last);
    this.advanceTo(res.revision);
    return res.revision;
  }

  /**
   * The store compacted past the revision we need: reload everything at a new revision, fire
   * the watches for the differences (zk-protocol.md §2.3: events reflect changes, not history),
   * and resume the feed after it.
   */
  private async resync(): Promise<void> {
    const fresh = new ZnodeTree(this.tree.keys);
    const rev = await this.load(fresh);
    if (this.closed) return;
    if (rev <= this.applied) {
      this.startWatch(this.applied + 1);
      return;
    }
    const changes = this.tree.replaceWith(fresh);
    this.applied = rev;
    this.logger.warn({ revision: rev, changes: changes.length }, 'change feed resynchronised from a full reload');
    if (changes.length > 0) for (const s of this.sinks) s.onChanges(changes, rev);
    this.release();
    this.startWatch(rev + 1);
  }

  /** Pages through the key space at one pinned revision into `tree`. */
  private async load(tree: ZnodeTree): Promise<number> {
    const { key, rangeEnd } = this.tree.keys.range();
    let start = key;
    let revision = 0;
    let keys = 0;
    let reported = performance.now();
    for (let page = 0; ; page++) {
      const res = await this.backend.range(start, {
        rangeEnd, limit: ZK_LOAD_PAGE_KEYS, revision: revision || undefined, sortOrder: 'ascend', sortTarget: 'key', exactCount: false,
      });
      if (revision === 0) revision = res.revision;
      for (const kv of res.kvs) tree.apply('put', kv);
      keys += res.kvs.length;
      // A large tree takes seconds to load: say so every few seconds.
      if (performance.now() - reported >= this.loadProgressMs) {
        reported = performance.now();
        this.logger.info({ revision, keys }, 'loading the znode tree');
      }
      if (!res.more || res.kvs.length === 0) break;
      start = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
    }
    tree.revision = revision;
    this.logger.info({ revision, znodes: tree.size() }, 'znode tree loaded');
    return revision;
  }

  private startWatch(from: number): void {
    if (this.closed) return;
    const { key, rangeEnd } = this.tree.keys.range();
    this.watch = this.backend.watch({ key, rangeEnd, startRevision: from }, {
      onEvents: (events) => this.onEvents(events),
      // Not trusted (see the file comment); catchUp() is the barrier.
      onProgress: () => undefined,
      onClosed: (err) => this.onClosed(err),
    });
  }

  private onEvents(events: KvEvent[]): void {
    this.failures = 0;
    let i = 0;
    while (i < events.length) {
      const rev = events[i]!.kv.modRevision;
      // A watch never repeats a revision; anything at or below `applied` is a stale redelivery.
      if (rev <= this.applied) { i++; continue; }
      // Everything before `rev` is complete: release those waiters before applying `rev`.
      this.advanceTo(rev - 1);
      const { script, gone } = this.beforeApplying(events, i, rev);
      const derived: NodeChange[] = [];
      for (; i < events.length && events[i]!.kv.modRevision === rev; i++) {
        const c = this.tree.apply(events[i]!.type, events[i]!.kv);
        if (c) derived.push(c);
      }
      // A multi that changed a path more than once says in what order (change-script.ts).
      const changes = script ?? derived;
      attachChangeAcls(changes, script !== undefined, gone, (path) => this.tree.has(path));
      this.applied = rev;
      if (rev > this.tree.revision) this.tree.revision = rev;
      if (changes.length > 0) for (const s of this.sinks) s.onChanges(changes, rev);
      this.release();
    }
  }

  /**
   * What revision `rev` (its events from `from` on) needs read before it is applied: its change
   * script, if a multi left one, and the ACLs of the nodes it deletes (by a node-key deletion or
   * in the script), since a deletion's watchers are told only if they could read the node and
   * its ACL key may go before its node key. `gone` is undefined when it deletes none.
   */
  private beforeApplying(events: readonly KvEvent[], from: number, rev: number): { script?: NodeChange[]; gone?: Map<string, readonly Acl[]> } {
    let script: NodeChange[] | undefined;
    let gone: Map<string, readonly Acl[]> | undefined;
    const note = (path: string): void => {
      if (this.tree.has(path)) (gone ??= new Map()).set(path, this.tree.aclOf(path));
    };
    for (let j = from; j < events.length && events[j]!.kv.modRevision === rev; j++) {
      const ev = events[j]!;
      if (ev.type === 'delete') {
        const k = this.tree.keys.classify(ev.kv.key);
        if (k.kind === 'node') note(k.path);
      } else if (ev.kv.value.length > 0 && this.isLastChangeKey(ev.kv.key)) {
        script = decodeChangeScript(ev.kv.value);
        for (const c of script ?? []) if (c.type === 'deleted') note(c.path);
      }
    }
    return { script, gone };
  }

  private isLastChangeKey(key: Buffer): boolean {
    return key.length === this.lastChangeKey.length && key.equals(this.lastChangeKey);
  }

  /** Records that every revision ≤ `rev` has been delivered. */
  private advanceTo(rev: number): void {
    if (rev > this.tree.revision) this.tree.revision = rev;
    this.release();
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    const now = this.tree.revision;
    const ready = this.waiters.filter((w) => w.revision <= now);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.revision > now);
    for (const w of ready) w.cb();
  }

  /**
   * Calls `cb(true)` once the tree reflects revision `rev` — synchronously if it already does,
   * else right after that revision is applied (before the next one). If the feed does not get
   * there within {@link ZK_FEED_WAIT_MS}, `cb(false)`: a stalled feed must not hang a
   * connection forever, and must not answer as if the tree were current either.
   */
  at(rev: number, cb: (reached: boolean) => void): void {
    if (rev <= this.tree.revision) {
      cb(true);
      return;
    }
    let done = false;
    const once = (reached: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cb(reached);
    };
    const timer = setTimeout(() => {
      this.logger.warn({ revision: rev, at: this.tree.revision }, 'change feed did not reach revision in time');
      this.waiters = this.waiters.filter((w) => w.cb !== onReach);
      once(false);
    }, ZK_FEED_WAIT_MS);
    timer.unref();
    const onReach = (): void => once(true);
    this.waiters.push({ revision: rev, cb: onReach });
  }

  /**
   * Resolves once the tree reflects revision `rev`; rejects with `unavailable` (the client sees
   * CONNECTIONLOSS) if the feed stalls for {@link ZK_FEED_WAIT_MS}.
   */
  reach(rev: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.at(rev, (ok) => (ok ? resolve() : reject(new KvError('unavailable', `change feed stalled before revision ${rev}`)))));
  }

  private onClosed(err: KvError): void {
    if (this.closed) return;
    // Back off while the store stays unreachable: 200 ms doubling to 5 s, reset by any event.
    const delay = Math.min(5000, 200 * 2 ** Math.min(this.failures, 5));
    this.failures++;
    const log = this.failures <= 3 ? this.logger.warn.bind(this.logger) : this.logger.debug.bind(this.logger);
    log({ err: err.message, code: err.code, revision: this.applied, retryMs: delay }, 'change feed closed; restarting');
    this.watch = undefined;
    this.restartTimer = setTimeout(() => {
      if (err.code !== 'compacted') {
        this.startWatch(this.applied + 1);
        return;
      }
      this.resync().catch((e: unknown) => {
        this.logger.error({ err: String(e) }, 'change feed resync failed; retrying');
        this.onClosed(err);
      });
    }, delay);
    this.restartTimer.unref();
  }

  /** Stops the feed; pending waiters are released so nothing hangs. */
  close(): void {
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.watch?.cancel();
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.cb();
  }
}
