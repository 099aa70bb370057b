/**
 * `ServerStats`: the counters ZooKeeper's four-letter words and `mntr` report (ServerStats,
 * zk-protocol.md §1.14): packets, latency, connections, outstanding requests.
 */

/** Counters of one listener. */
export class ServerStats {
  packetsReceived = 0;
  packetsSent = 0;
  outstanding = 0;
  /** Connections closed at accept for a connection limit (mntr's zk_connection_rejected). */
  connectionsRejected = 0;
  private latencyCount = 0;
  private latencyTotal = 0;
  minLatency = 0;
  maxLatency = 0;
  readonly startedAt = Date.now();

  /** Records a request's latency in ms. */
  recordLatency(ms: number): void {
    const v = Math.max(0, Math.round(ms));
    if (this.latencyCount === 0 || v < this.minLatency) this.minLatency = v;
    if (v > this.maxLatency) this.maxLatency = v;
    this.latencyCount++;
    this.latencyTotal += v;
  }

  /** Average latency in ms, 4 decimals like ZooKeeper 3.8 prints. */
  avgLatency(): number {
    return this.latencyCount === 0 ? 0 : Math.round((this.latencyTotal / this.latencyCount) * 10000) / 10000;
  }

  /** `srst`: zero the counters. */
  reset(): void {
    this.packetsReceived = this.packetsSent = 0;
    this.latencyCount = this.latencyTotal = this.minLatency = this.maxLatency = 0;
  }
}

/** Per-connection counters (`cons`). */
export interface ConnectionStats {
  remote: string;
  sessionId: bigint;
  timeoutMs: number;
  received: number;
  sent: number;
  queued: number;
  lastOp: string;
  lastCxid: number;
  lastZxid: number;
  lastResponse: number;
  established: number;
  minLat: number;
  maxLat: number;
  totalLat: number;
  countLat: number;
}
