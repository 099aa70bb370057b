/**
 * The ZooKeeper front end's figures on the member's `/metrics` (Prometheus text, beside etcd's):
 * requests, error codes and latency per op as they are answered, and the live counts (connections,
 * sessions, znodes, watches, ephemerals) read at each scrape. Names are Coracle's own
 * (`coracle_zk_*`): the same figures in ZooKeeper's names are on the AdminServer's `monitor`.
 */
import { errName } from '../protocol/jute';
import { Counter, Gauge, Histogram, MetricsRegistry, exponentialBuckets } from '../core/server/metrics-registry';
import type { ZkProxy } from '../zkproxy/index';

/** Registers the `coracle_zk_*` families of `proxy` on `registry`; call once, right after the proxy starts. */
export function registerZkMetrics(registry: MetricsRegistry, proxy: ZkProxy): void {
  const requests = registry.register(new Counter('coracle_zk_requests_total', 'ZooKeeper requests answered, by op.'));
  const errors = registry.register(new Counter('coracle_zk_request_errors_total', 'ZooKeeper requests answered with an error code, by op and code.'));
  const duration = registry.register(new Histogram(
    'coracle_zk_request_duration_seconds', 'Time from a ZooKeeper request being read to its reply, by op.', exponentialBuckets(0.0005, 2, 14),
  ));
  // Per op and per (op, code), the series are bound once: a request only bumps numbers.
  const perOp = new Map<string, { answered: () => void; took: (seconds: number) => void }>();
  const perError = new Map<string, () => void>();
  proxy.metrics.observe((op, err, ms) => {
    let o = perOp.get(op);
    if (!o) perOp.set(op, (o = { answered: requests.bind({ op }), took: duration.bind({ op }) }));
    o.answered();
    o.took(ms / 1000);
    if (err === 0) return;
    const key = `${op} ${err}`;
    let failed = perError.get(key);
    if (!failed) perError.set(key, (failed = errors.bind({ op, code: errName(err) })));
    failed();
  });
  const gauge = (name: string, help: string): Gauge => registry.register(new Gauge(name, help));
  const connections = gauge('coracle_zk_connections', 'Open ZooKeeper client connections with a session.');
  const sessions = gauge('coracle_zk_sessions', 'ZooKeeper sessions this server tracks.');
  const znodes = gauge('coracle_zk_znodes', 'Znodes in the tree, the root and /zookeeper included (counted once each).');
  const watches = gauge('coracle_zk_watches', 'ZooKeeper watches: (path, connection) pairs of the data and child tables.');
  const ephemerals = gauge('coracle_zk_ephemerals', 'Ephemeral znodes.');
  const dataSize = gauge('coracle_zk_approximate_data_size_bytes', 'Sum of the znodes\' path and data lengths, as ZooKeeper counts it.');
  const outstanding = gauge('coracle_zk_outstanding_requests', 'ZooKeeper requests read and not yet answered.');
  const conflicts = registry.register(new Counter('coracle_zk_write_conflicts_total', 'ZooKeeper writes whose guard lost to a concurrent write and were planned again.'));
  const rejected = registry.register(new Counter('coracle_zk_connections_rejected_total', 'ZooKeeper connections refused for --zk-max-client-cnxns.'));
  registry.collect(() => {
    const m = proxy.monitoring;
    connections.set(m.connections().filter((c) => c.sessionId !== 0n).length);
    sessions.set(proxy.services.sessions.size());
    // mntr's count holds the root twice, as ZooKeeper's does; this one counts znodes.
    znodes.set(proxy.services.tree.size());
    watches.set(m.watchCount());
    ephemerals.set(m.ephemerals());
    dataSize.set(m.dataSize());
    outstanding.set(m.stats.outstanding);
    // Monotonic counts kept by the proxy, mirrored into counters by their growth.
    conflicts.inc(undefined, Math.max(0, m.writeConflicts() - conflicts.get()));
    rejected.inc(undefined, Math.max(0, m.stats.connectionsRejected - rejected.get()));
  });
}
