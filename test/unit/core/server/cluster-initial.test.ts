/**
 * First-boot checks of --initial-cluster with etcd's texts, and etcd's ids for a static cluster
 * (the same flags on every member give the same member and cluster ids).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterConfigError, initialMembers, parseInitialCluster, verifyInitialCluster } from '../../../../core/cluster/initial-cluster';

const IC = 'a=http://127.0.0.1:1,b=http://127.0.0.1:2,c=http://127.0.0.1:3';

test('an empty --initial-cluster is this member alone (etcd default name=advertise URLs)', () => {
  assert.deepEqual([...parseInitialCluster('', 'default', ['http://localhost:2380'])], [['default', ['http://localhost:2380']]]);
});

const CASES = [
  { name: 'own name missing', ic: IC, me: 'd', urls: ['http://127.0.0.1:4'], want: /couldn't find local name "d" in the initial cluster configuration/ },
  { name: 'advertised URLs differ', ic: IC, me: 'a', urls: ['http://127.0.0.1:9'], want: /--initial-cluster must include a=http:\/\/127\.0\.0\.1:9 given --initial-advertise-peer-urls=http:\/\/127\.0\.0\.1:9/ },
  { name: 'duplicate URL', ic: IC + ',d=http://127.0.0.1:1', me: 'a', urls: ['http://127.0.0.1:1'], want: /has duplicate url/ },
  { name: 'not a URL', ic: 'a=nope', me: 'a', urls: ['nope'], want: /invalid peer URL/ },
];
for (const c of CASES) {
  test(`refused: ${c.name}`, () => {
    assert.throws(() => verifyInitialCluster(parseInitialCluster(c.ic, c.me, c.urls), c.me, c.urls, false), (e: unknown) => e instanceof ClusterConfigError && c.want.test(e.message));
  });
}

test('every member computes the same ids; another token gives another cluster', () => {
  const x = initialMembers(parseInitialCluster(IC, 'a', []), 'tok');
  const y = initialMembers(parseInitialCluster('c=http://127.0.0.1:3,a=http://127.0.0.1:1,b=http://127.0.0.1:2', 'c', []), 'tok');
  assert.deepEqual(x, y);
  assert.notEqual(initialMembers(parseInitialCluster(IC, 'a', []), 'other').clusterId, x.clusterId);
  // etcd's default single member: 8e9e05c52164694d (etcd.md §4.2, as etcd prints it).
  assert.equal(initialMembers(parseInitialCluster('', 'default', ['http://localhost:2380']), 'etcd-cluster').members[0]!.id.toString(16), '8e9e05c52164694d');
});
