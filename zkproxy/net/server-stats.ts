/**
 * `ServerStats`: the counters ZooKeeper's four-letter words and `mntr` report (ServerStats,
 * zk-protocol.md §1.14): packets, latency, connections, outstanding requests.
 */
import { OpCode } from '../../protocol/jute';
import { LatencySummary } from './latency-summary';
import { ResettableLatency } from './resettable-latency';

/**
 * The op codes ZooKeeper times as updates: those that become a txn (a failed one too, as an
 * error txn), a new session's included. The rest (reads, pings, sync, watches) are reads.
 */
const UPDATE_OPS: ReadonlySet<number> = new Set([
  OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL, OpCode.delete, OpCode.deleteContainer,
  OpCode.setData, OpCode.setACL, OpCode.check, OpCode.multi, OpCode.reconfig, OpCode.createSession, OpCode.closeSession,
]);

/** Answered before ZooKeeper's request pipeline, so it times neither (ZooKeeperServer.processPacket). */
const UNTIMED_OPS: ReadonlySet<number> = new Set([OpCode.auth, OpCode.sasl]);

/** Whether ZooKeeper counts a request of op code `type` in `updatelatency` (else `readlatency`). */
export function isUpdateOp(type: number): boolean {
  return UPDATE_OPS.has(type);
}

/** The read and update latency summaries of the Prometheus text. */
export interface LatencySummaries {
  read: LatencySummary;
  update: LatencySummary;
}

/** Counters of one listener. */
export class ServerStats {
  packetsReceived = 0;
  packetsSent = 0;
  /** Bytes of the packets received, each with its 4-byte length (mntr's zk_bytes_received_count). */
  bytesReceived = 0;
  outstanding = 0;
  /** Connections closed at accept for a connection limit (mntr's zk_connection_rejected). */
  connectionsRejected = 0;
  /** Every timed request's latency (mntr's avg/min/max_latency, srvr's "Latency min/avg/max"). */
  private readonly latency = new ResettableLatency(false);
  /** Sizes of the replies and notifications sent, bytes; -1 until one is (ZooKeeper's BufferStats). */
  lastResponseSize = -1;
  minResponseSize = -1;
  maxResponseSize = -1;
  readonly startedAt = Date.now();
  /** The Prometheus summaries, once something serves them (see {@link latencySummaries}). */
  private summaries: LatencySummaries | undefined;
  /** The same two as mntr prints them: since start or the last `srst`. */
  private readonly readSinceReset = new ResettableLatency();
  private readonly updateSinceReset = new ResettableLatency();

  /**
   * Counts one packet from a client of `bytes` (length prefix included): a handshake, a request,
   * or a four-letter word (4 bytes), as ZooKeeper counts them.
   */
  packetReceived(bytes: number): void {
    this.packetsReceived++;
    this.bytesReceived += bytes;
  }

  /** Records the latency in ms of a request of op code `type`. */
  recordLatency(ms: number, type: number): void {
    if (UNTIMED_OPS.has(type)) return;
    const update = isUpdateOp(type);
    if (this.summaries) (update ? this.summaries.update : this.summaries.read).observe(ms);
    (update ? this.updateSinceReset : this.readSinceReset).observe(ms);
    this.latency.observe(ms);
  }

  /** Smallest latency in ms since start or `srst`. */
  get minLatency(): number {
    return this.latency.min;
  }

  /** Largest latency in ms since start or `srst`. */
  get maxLatency(): number {
    return this.latency.max;
  }

  /** Records the size of a frame sent to a client. */
  recordResponse(bytes: number): void {
    this.lastResponseSize = bytes;
    if (this.minResponseSize < 0 || bytes < this.minResponseSize) this.minResponseSize = bytes;
    if (bytes > this.maxResponseSize) this.maxResponseSize = bytes;
  }

  /** Average latency in ms, 4 decimals like ZooKeeper 3.8 prints. */
  avgLatency(): number {
    return this.latency.avg();
  }

  /**
   * ZooKeeper's Prometheus summaries `readlatency` and `updatelatency` (ms), recorded from the
   * first call on: the metrics endpoint asks at start, and without it requests do not pay for
   * them. `srst` leaves them, as it does under ZooKeeper's Prometheus provider.
   */
  latencySummaries(): LatencySummaries {
    return (this.summaries ??= { read: new LatencySummary(), update: new LatencySummary() });
  }

  /** mntr's rows of the read and update latencies (`avg_readlatency`, ..., `p999_updatelatency`), in ZooKeeper's order. */
  latencyRows(): [string, number][] {
    return [...this.updateSinceReset.rows('updatelatency'), ...this.readSinceReset.rows('readlatency')];
  }

  /** `srst`: zero the counters (the Prometheus summaries only grow: ZooKeeper's provider cannot reset them). */
  reset(): void {
    this.readSinceReset.reset();
    this.updateSinceReset.reset();
    this.packetsReceived = this.packetsSent = this.bytesReceived = 0;
    this.latency.reset();
    this.lastResponseSize = this.minResponseSize = this.maxResponseSize = -1;
  }
}
