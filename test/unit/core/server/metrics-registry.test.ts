/**
 * The Prometheus text rendering: HELP/TYPE lines, labels and escaping, cumulative histogram
 * buckets with +Inf/_sum/_count, special values, collectors, and the refusals (bad names,
 * duplicate families, decreasing counters, unordered buckets).
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, exponentialBuckets, formatValue, Gauge, Histogram, MetricsRegistry } from '../../../../core/server/metrics-registry';
import { ETCD_DISK_BUCKETS, MemberMetrics } from '../../../../core/server/metrics-member';

describe('MetricsRegistry.render', () => {
  it('renders counters and gauges with HELP, TYPE and escaped labels', () => {
    const r = new MetricsRegistry();
    const c = r.register(new Counter('requests_total', 'Requests\nserved \\ total.'));
    const g = r.register(new Gauge('temperature', 'Now.'));
    c.inc({ path: '/a"b', code: 'x\\y\nz' });
    c.inc({ path: '/a"b', code: 'x\\y\nz' }, 2);
    g.set(-1.5);
    assert.equal(
      r.render(),
      [
        '# HELP requests_total Requests\\nserved \\\\ total.',
        '# TYPE requests_total counter',
        'requests_total{path="/a\\"b",code="x\\\\y\\nz"} 3',
        '# HELP temperature Now.',
        '# TYPE temperature gauge',
        'temperature -1.5',
        '',
      ].join('\n'),
    );
  });

  it('leaves out families without samples and runs collectors first', () => {
    const r = new MetricsRegistry();
    r.register(new Counter('never_total', 'Never incremented.'));
    const g = r.register(new Gauge('live', 'Set at scrape time.'));
    let n = 0;
    r.collect(() => g.set(++n));
    assert.equal(r.render(), '# HELP live Set at scrape time.\n# TYPE live gauge\nlive 1\n');
    assert.match(r.render(), /^live 2$/m);
  });

  it('renders histograms cumulatively with +Inf, _sum and _count, labels before le', () => {
    const r = new MetricsRegistry();
    const h = r.register(new Histogram('latency_seconds', 'Latency.', [0.1, 1]));
    for (const v of [0.05, 0.1, 0.5, 3]) h.observe(v, { op: 'put' });
    assert.equal(
      r.render(),
      [
        '# HELP latency_seconds Latency.',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{op="put",le="0.1"} 2',
        'latency_seconds_bucket{op="put",le="1"} 3',
        'latency_seconds_bucket{op="put",le="+Inf"} 4',
        'latency_seconds_sum{op="put"} 3.65',
        'latency_seconds_count{op="put"} 4',
        '',
      ].join('\n'),
    );
  });

  it('refuses bad names, duplicates, decreasing counters and unordered buckets', () => {
    const r = new MetricsRegistry();
    assert.throws(() => new Gauge('bad-name', ''), /bad metric name/);
    r.register(new Gauge('g', ''));
    assert.throws(() => r.register(new Gauge('g', '')), /registered twice/);
    assert.throws(() => new Counter('c', '').inc(undefined, -1), /cannot decrease/);
    assert.throws(() => new Histogram('h', '', [1, 1]), /must increase/);
  });
});

describe('formatValue and buckets', () => {
  const cases: Array<[number, string]> = [[Infinity, '+Inf'], [-Infinity, '-Inf'], [NaN, 'NaN'], [0, '0'], [1e21, '1e+21'], [0.25, '0.25']];
  for (const [v, want] of cases) it(`${v} → ${want}`, () => assert.equal(formatValue(v), want));

  it("etcd's disk buckets print as etcd prints them", () => {
    assert.deepEqual(ETCD_DISK_BUCKETS.map(formatValue), ['0.001', '0.002', '0.004', '0.008', '0.016', '0.032', '0.064', '0.128', '0.256', '0.512', '1.024', '2.048', '4.096', '8.192']);
    assert.deepEqual(exponentialBuckets(1, 10, 3), [1, 10, 100]);
  });
});

describe('MemberMetrics', () => {
  it('counts a leader change for each new known leader, as etcd (losing one resets "current")', () => {
    const m = new MemberMetrics();
    const steps: Array<[bigint, number]> = [[0n, 0], [5n, 1], [5n, 1], [0n, 1], [5n, 2], [7n, 3]];
    for (const [lead, changes] of steps) {
      m.observeLeader(lead, false);
      assert.equal(m.leaderChanges.get(), changes, `after lead ${lead}`);
      assert.equal(m.hasLeader.get(), lead === 0n ? 0 : 1);
    }
  });

  it('tracks pending and failed proposals, and labels gRPC outcomes as go-grpc-prometheus', () => {
    const m = new MemberMetrics();
    m.proposalStarted();
    m.proposalStarted();
    m.proposalFinished(false);
    m.proposalFinished(true);
    m.proposalRefused();
    assert.equal(m.proposalsPending.get(), 0);
    assert.equal(m.proposalsFailed.get(), 2);
    m.observeGrpcCall('/etcdserverpb.KV/Range', 'unary', 11);
    assert.equal(m.grpcHandled.get({ grpc_type: 'unary', grpc_service: 'etcdserverpb.KV', grpc_method: 'Range', grpc_code: 'OutOfRange' }), 1);
  });

  it('backend syncs count as WAL fsyncs until a dedicated WAL reports', () => {
    const m = new MemberMetrics();
    m.observeCommit(0.01, 0.004);
    assert.equal(m.walFsync.count(), 1);
    m.observeWalFsync(0.002);
    m.observeCommit(0.01, 0.004);
    assert.deepEqual([m.walFsync.count(), m.backendCommit.count()], [2, 2]);
  });
});

describe('bound series', () => {
  it('count and observe into the same series as inc and observe with those labels', () => {
    const bound = new MetricsRegistry();
    const plain = new MetricsRegistry();
    const [bc, pc] = [bound, plain].map((r) => r.register(new Counter('ops_total', 'Ops.')));
    const [bh, ph] = [bound, plain].map((r) => r.register(new Histogram('op_seconds', 'Op time.', [0.001, 0.01])));
    const inc = bc!.bind({ op: 'create' });
    const took = bh!.bind({ op: 'create' });
    for (const v of [0.0005, 0.005, 0.5]) {
      inc();
      took(v);
      pc!.inc({ op: 'create' });
      ph!.observe(v, { op: 'create' });
    }
    bc!.inc({ op: 'create' });
    pc!.inc({ op: 'create' });
    assert.equal(bc!.get({ op: 'create' }), 4);
    assert.equal(bound.render(), plain.render());
    assert.match(bound.render(), /^op_seconds_bucket\{op="create",le="0\.001"\} 1$/m);
  });
});
