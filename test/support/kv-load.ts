/**
 * A recorded client workload for fault tests: workers that put unique values to a small set of
 * registers and read them back (linearizable gets) through the etcd v3 API, spread over the
 * members, with every operation recorded in the shape of linearizability.ts
 * ({@link KvOperation}: call and return times on one clock, `ret` undefined when the outcome is
 * unknown).
 *
 * Each put is one transaction writing the register and a key of its own, `dur/<value>`, that
 * nothing overwrites: an acknowledged put must leave that key on every member at the end (the
 * "no lost acknowledged write" check), even when a later put hid the register value.
 *
 * The client makes no retries of its own (etcd3's default retries a failed call up to three
 * times: a put retried after its first attempt was applied would be applied twice, and with
 * unique values that reads as a violation the server never made). Every call has a gRPC
 * deadline, and any error leaves the operation indeterminate: a put that timed out may still
 * be applied later, and the checker treats it so.
 */
import { Etcd3, type IOptions } from 'etcd3';
import type { KvOperation } from './linearizability';
import { sleep } from './poll';

/** Options of {@link KvLoad.start}. */
export interface KvLoadOptions {
  /** `host:port` client endpoints; worker `w` talks to `endpoints[w % endpoints.length]`. */
  endpoints: string[];
  workers?: number;
  registers?: number;
  /** gRPC deadline of each call. */
  opTimeoutMs?: number;
  /** Pause between a worker's operations (keeps histories checkable). */
  thinkMs?: number;
  /** Operations per worker at most (bounds the run whatever the timing). */
  maxOpsPerWorker?: number;
  /** Key prefix of the registers. */
  prefix?: string;
}

/** The durability keys of acknowledged puts live under this prefix. */
export const DURABLE_PREFIX = 'dur/';

type Policy = NonNullable<NonNullable<IOptions['faultHandling']>['global']>;
/**
 * A fault-handling policy that runs the call once (etcd3 only calls `execute` on its policies;
 * this stands in for cockatiel's `Policy.noop` without depending on etcd3's own dependency).
 */
const ONCE = { execute: <T>(fn: () => T): T => fn() } as unknown as Policy;

/** A client that never retries and gives each call `timeoutMs`. */
export function noRetryClient(endpoint: string, timeoutMs: number): Etcd3 {
  return new Etcd3({
    hosts: `http://${endpoint}`,
    dialTimeout: timeoutMs,
    faultHandling: { host: () => ONCE, global: ONCE },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeoutMs }),
  });
}

/** A running workload; its history grows until {@link KvLoad.stop}. */
export class KvLoad {
  /** Every operation so far, in call order per worker. */
  readonly history: KvOperation[] = [];
  /** Durability keys of the acknowledged puts → their value. */
  readonly durable = new Map<string, string>();
  private readonly t0 = performance.now();
  private readonly clients: Etcd3[];
  private readonly workers: Promise<void>[];
  private stopped = false;
  private stopping: Promise<void> | undefined;

  private constructor(private readonly o: Required<KvLoadOptions>) {
    this.clients = o.endpoints.map((e) => noRetryClient(e, o.opTimeoutMs));
    this.workers = Array.from({ length: o.workers }, (_, w) => this.worker(w));
  }

  /** Starts the workers. */
  static start(options: KvLoadOptions): KvLoad {
    return new KvLoad({ workers: 6, registers: 6, opTimeoutMs: 3000, thinkMs: 10, maxOpsPerWorker: 20_000, prefix: 'reg/', ...options });
  }

  /** Milliseconds since the start, the clock of {@link history}. */
  now(): number {
    return performance.now() - this.t0;
  }

  /** The endpoint index worker (client) `w` uses. */
  endpointOf(client: number): number {
    return client % this.o.endpoints.length;
  }

  /** Acknowledged puts called at or after `since`, through the endpoints whose index passes `via`. */
  ackedPutsSince(since: number, via: (endpointIndex: number) => boolean = () => true): number {
    return this.history.filter((op) => op.kind === 'put' && op.ret !== undefined && op.call >= since && via(this.endpointOf(op.client))).length;
  }

  /** Stops the workers (each finishes its current call, bounded by the deadline) and closes the clients; idempotent. */
  stop(): Promise<void> {
    if (!this.stopping) {
      this.stopped = true;
      this.stopping = Promise.all(this.workers).then(() => {
        for (const c of this.clients) c.close();
      });
    }
    return this.stopping;
  }

  /**
   * After {@link stop}: one linearizable read of every register through each endpoint, added to
   * the history as a client of its own, so that the final state is checked too. Reads that fail
   * are left indeterminate.
   */
  async finalReads(endpoints: string[]): Promise<void> {
    for (let e = 0; e < endpoints.length; e++) {
      const client = noRetryClient(endpoints[e]!, 10_000);
      try {
        for (let r = 0; r < this.o.registers; r++) await this.get(client, this.o.workers + e, `${this.o.prefix}${r}`);
      } finally {
        client.close();
      }
    }
  }

  private async worker(w: number): Promise<void> {
    const client = this.clients[this.endpointOf(w)]!;
    for (let i = 0; i < this.o.maxOpsPerWorker && !this.stopped; i++) {
      const key = `${this.o.prefix}${(w * 7 + i) % this.o.registers}`;
      const ok = i % 3 === 2 ? await this.get(client, w, key) : await this.put(client, w, key, `w${w}-${i}`);
      // After a failure, back off a little: a dead or cut member fails fast, and spinning on it
      // would only fill the history with indeterminate operations.
      await sleep(ok ? this.o.thinkMs : 100);
    }
  }

  private async get(client: Etcd3, w: number, key: string): Promise<boolean> {
    const op: KvOperation = { client: w, kind: 'get', key, value: undefined, call: this.now(), ret: undefined };
    this.history.push(op);
    try {
      const res = await client.kv.range({ key: Buffer.from(key) });
      op.ret = this.now();
      op.value = res.kvs[0]?.value.toString();
      return true;
    } catch {
      return false;
    }
  }

  private async put(client: Etcd3, w: number, key: string, value: string): Promise<boolean> {
    const op: KvOperation = { client: w, kind: 'put', key, value, call: this.now(), ret: undefined };
    this.history.push(op);
    const dur = `${DURABLE_PREFIX}${key}/${value}`;
    try {
      await client.kv.txn({
        compare: [],
        success: [{ request_put: { key: Buffer.from(key), value: Buffer.from(value) } }, { request_put: { key: Buffer.from(dur), value: Buffer.from(value) } }],
        failure: [],
      });
      op.ret = this.now();
      this.durable.set(dur, value);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * The acknowledged durability keys missing (or wrong) on `endpoint`, read with a linearizable
 * range over {@link DURABLE_PREFIX}; throws if the member cannot answer within `timeoutMs`.
 */
export async function missingDurable(endpoint: string, durable: ReadonlyMap<string, string>, timeoutMs = 15_000): Promise<string[]> {
  const client = noRetryClient(endpoint, timeoutMs);
  try {
    const all = await client.getAll().prefix(DURABLE_PREFIX).strings();
    return [...durable].filter(([k, v]) => all[k] !== v).map(([k]) => k);
  } finally {
    client.close();
  }
}
