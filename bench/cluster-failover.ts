/**
 * Leader failover time of a 3-member cluster, measured from a client's point of view.
 *
 * One writer (a single grpc-js client, one call at a time, each with a short deadline) puts
 * 256-byte values to distinct keys through a member that is not the leader, so the writer's own
 * connection survives the kill and every write has to reach whichever member leads. Once writes
 * flow, the leader gets SIGKILL. Failover time = from the kill until the end of the first
 * successful write that was *started* after the kill (a write already in flight could still be
 * acknowledged from before the crash and would say nothing about the new leader). The longest
 * gap between consecutive successful writes over the whole round is reported too: it includes
 * the time the last pre-kill write took and any second hiccup after the first success.
 *
 * Resolution is about the deadline: a write forwarded to the dead leader hangs until its
 * deadline, and only then can the next one go to a new leader. After a failed call the writer
 * pauses briefly, so a member that answers "no leader" at once does not make it spin.
 *
 * grpc-js is fine here (one call at a time); the throughput rows use the raw-HTTP/2 generator.
 */
import * as grpc from '@grpc/grpc-js';
import * as pb from '../protocol/etcd/generated/rpc';
import { sleep } from '../test/support/poll';
import { stableLeader, type BenchCluster } from './cluster-systems';

const PUT_PATH = '/etcdserverpb.KV/Put';
const VALUE = Buffer.alloc(256, 'f');
/** Pause after a failed call (ms): keeps an instant "no leader" answer from busy-looping. */
const RETRY_PAUSE_MS = 10;
/** Hard bounds on one writer, whatever its caller does. */
const WRITER_MAX_CALLS = 200_000;
const WRITER_MAX_MS = 120_000;

/** Knobs of a failover round. */
export interface FailoverOptions {
  /** Per-call deadline (ms). */
  deadlineMs: number;
  /** Steady writes before the kill (ms). */
  warmupMs: number;
  /** Writes kept going after the first post-kill success, to catch a second hiccup (ms). */
  afterMs: number;
  /** Give up waiting for a post-kill success after this long (ms). */
  maxWaitMs: number;
}

/** The outcome of one round. */
export interface FailoverRound {
  /** Kill → first successful write started after it (ms); undefined if none within maxWaitMs. */
  failoverMs: number | undefined;
  /** Longest interval between consecutive successful writes in the round (ms). */
  longestGapMs: number;
  /** Calls that did not succeed, by gRPC status name. */
  failures: Record<string, number>;
  killed: number;
  writer: number;
}

/** One successful call: when it started and ended (performance.now()). */
interface Success {
  startAt: number;
  endAt: number;
}

/** A single sequential writer; {@link stop} ends its loop and closes its channel. */
class Writer {
  readonly successes: Success[] = [];
  readonly failures: Record<string, number> = {};
  private readonly client: grpc.Client;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(endpoint: string, private readonly keyPrefix: string, private readonly deadlineMs: number) {
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
    this.loop = this.run();
  }

  private put(i: number): Promise<grpc.ServiceError | null> {
    const body = Buffer.from(pb.PutRequest.encode({ key: Buffer.from(`${this.keyPrefix}${i}`), value: VALUE }));
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(PUT_PATH, (b: Buffer) => b, (b: Buffer) => b, body, new grpc.Metadata(),
        { deadline: Date.now() + this.deadlineMs }, (err) => resolve(err ?? null));
    });
  }

  private async run(): Promise<void> {
    const endBy = performance.now() + WRITER_MAX_MS;
    for (let i = 0; i < WRITER_MAX_CALLS && !this.stopped && performance.now() < endBy; i++) {
      const startAt = performance.now();
      const err = await this.put(i);
      if (err === null) {
        this.successes.push({ startAt, endAt: performance.now() });
      } else {
        const name = grpc.status[err.code] ?? String(err.code);
        this.failures[name] = (this.failures[name] ?? 0) + 1;
        await sleep(RETRY_PAUSE_MS);
      }
    }
  }

  /** First success of a call started at or after `t`. */
  firstStartedAfter(t: number): Success | undefined {
    for (let k = this.successes.length - 1; k >= 0 && this.successes[k]!.startAt >= t; k--) {
      if (k === 0 || this.successes[k - 1]!.startAt < t) return this.successes[k];
    }
    return undefined;
  }

  /** Ends the loop after the call in flight and closes the channel; safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return this.loop;
    this.stopped = true;
    await this.loop;
    this.client.close();
  }
}

/** Polls `probe` every 5 ms until it is defined or `timeoutMs` passes (bounded both ways). */
async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (let n = 0; n < timeoutMs / 5 + 1 && performance.now() < deadline; n++) {
    const v = probe();
    if (v !== undefined) return v;
    await sleep(5);
  }
  return probe();
}

/**
 * One round: find the leader, write through a follower, kill -9 the leader, time the recovery,
 * then restart the killed member and wait until the cluster has a leader all members agree on.
 */
export async function failoverRound(c: BenchCluster, round: number, o: FailoverOptions): Promise<FailoverRound> {
  const killed = await stableLeader(c);
  const writer = (killed + 1) % c.size;
  const w = new Writer(c.endpoint(writer), `failover/${round}/`, o.deadlineMs);
  let result: FailoverRound;
  try {
    const warm = await waitFor(() => w.successes[0], 10_000);
    if (warm === undefined) throw new Error(`${c.name}: no write succeeded through member ${writer} before the kill (${JSON.stringify(w.failures)})`);
    await sleep(o.warmupMs);
    const killAt = performance.now();
    await c.kill9(killed);
    const first = await waitFor(() => w.firstStartedAfter(killAt), o.maxWaitMs);
    await sleep(first === undefined ? 0 : o.afterMs);
    const stopAt = performance.now();
    await w.stop();
    const ends = w.successes.map((s) => s.endAt);
    let longestGapMs = 0;
    for (let k = 1; k < ends.length; k++) longestGapMs = Math.max(longestGapMs, ends[k]! - ends[k - 1]!);
    if (first === undefined) longestGapMs = Math.max(longestGapMs, stopAt - (ends[ends.length - 1] ?? killAt));
    result = { failoverMs: first === undefined ? undefined : first.endAt - killAt, longestGapMs, failures: { ...w.failures }, killed, writer };
  } finally {
    await w.stop();
  }
  await c.restart(killed);
  await stableLeader(c);
  return result;
}
