/**
 * etcdctl 3.4's watch, lease, lock and elect commands against real etcd 3.4 and against the real
 * `coracle` binary. Watch and lease output must be identical once lease ids are masked (and the
 * attached-keys list sorted: etcd prints it in map order); lock and elect are client-side
 * recipes over leases, txn and watch, checked by what they must do on both servers: a second
 * locker waits until the first lets go, and a second candidate is elected, and the observer
 * told, only when the leader resigns.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer, ETCDCTL_BIN } from '../support/peers';
import { startEtcd } from '../support/etcd-peer';
import { etcdctl } from '../support/etcdctl';
import { startCoracle } from '../support/coracle-server';
import { startProcess, ManagedProcess } from '../support/process';
import { sleep } from '../support/poll';

/** A long-running etcdctl (watch, lock, elect) whose output is read as it arrives. */
function etcdctlProcess(endpoint: string, args: string[], name: string): ManagedProcess {
  return startProcess(ETCDCTL_BIN, [`--endpoints=${endpoint}`, '--dial-timeout=3s', ...args], { name, env: { ETCDCTL_API: '3' } });
}

/** Output lines without the client's own log lines, lease ids masked. */
function clean(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('{"level"'))
    .map((l) => l.replace(/\b[0-9a-f]{16}\b/g, '<lease>'));
}

/** etcdctl prints attached keys in the server's map order; sort them. */
function sortKeys(line: string): string {
  return line.replace(/attached keys\(\[(.*)\]\)/, (_, ks: string) => `attached keys([${ks.split(' ').sort().join(' ')}])`);
}

async function run(endpoint: string, args: string[]): Promise<string[]> {
  const r = await etcdctl(endpoint, args);
  return [`exit ${r.code}`, ...clean(r.stdout + r.stderr).map(sortKeys)];
}

/**
 * Starts `watch` processes and makes sure they are registered before returning: a sentinel put
 * to `foo` is repeated (bounded) until every watcher printed it. Returns the line count after
 * which the real events start in each.
 */
async function startWatchers(endpoint: string, specs: string[][]): Promise<Array<{ p: ManagedProcess; from: number }>> {
  const ps = specs.map((args, i) => etcdctlProcess(endpoint, ['watch', ...args], `watch-${i}`));
  for (let attempt = 0; attempt < 10; attempt++) {
    await etcdctl(endpoint, ['put', 'foo', 'sentinel']);
    const seen = await Promise.all(ps.map((p) => p.waitForLine(/^sentinel$/, 1500).then(() => true, () => false)));
    if (seen.every(Boolean)) break;
  }
  await sleep(200); // let the last sentinel's lines land everywhere
  return ps.map((p) => ({ p, from: p.lineCount }));
}

/** The watch and lease script; returns each step's normalized output. */
async function script(endpoint: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const step = async (name: string, args: string[]) => void (out[name] = await run(endpoint, args));
  await step('put bar 1', ['put', 'bar', '1']);
  await step('put bar 2', ['put', 'bar', '2']);
  await step('del bar', ['del', 'bar']);
  await step('put foo old', ['put', 'foo', 'old']);

  const watchers = await startWatchers(endpoint, [['foo'], ['--prefix', 'f'], ['--prev-kv', 'foo']]);
  const history = etcdctlProcess(endpoint, ['watch', '--rev', '1', 'bar'], 'watch-rev');
  try {
    await step('put foo new', ['put', 'foo', 'new']);
    await step('put fy 2', ['put', 'fy', '2']);
    await step('del foo', ['del', 'foo']);
    await step('put foo again', ['put', 'foo', 'again']);
    for (const w of watchers) await w.p.waitForLine(/^again$/, 10_000, w.from);
    await history.waitForLine(/^DELETE$/, 10_000);
    await sleep(200);
    const names = ['watch foo', 'watch --prefix f', 'watch --prev-kv foo'];
    watchers.forEach((w, i) => (out[names[i]!] = w.p.lineCount > w.from ? clean(w.p.tail(w.p.lineCount - w.from)) : []));
    out['watch --rev 1 bar'] = clean(history.tail(500));
  } finally {
    await Promise.all([...watchers.map((w) => w.p.stop()), history.stop()]);
  }

  const granted = await etcdctl(endpoint, ['lease', 'grant', '10']);
  out['lease grant 10'] = clean(granted.stdout);
  const id = /lease ([0-9a-f]+) granted/.exec(granted.stdout)?.[1] ?? 'none';
  await step('put --lease lk1', ['put', `--lease=${id}`, 'lk1', 'v1']);
  await step('put --lease lk2', ['put', `--lease=${id}`, 'lk2', 'v2']);
  await step('put --lease unknown', ['put', '--lease=abcdef', 'lk3', 'v3']);
  await step('lease timetolive --keys', ['lease', 'timetolive', '--keys', id]);
  await step('lease list', ['lease', 'list']);
  await step('lease keep-alive --once', ['lease', 'keep-alive', '--once', id]);
  await step('lease grant 1 (raised)', ['lease', 'grant', '1']);
  await step('lease revoke', ['lease', 'revoke', id]);
  await step('get lk --prefix after revoke', ['get', 'lk', '--prefix']);
  await step('lease timetolive revoked', ['lease', 'timetolive', id]);
  await step('lease revoke again', ['lease', 'revoke', id]);
  await step('lease keep-alive --once revoked', ['lease', 'keep-alive', '--once', id]);
  return out;
}

/** lock: the second locker runs its command only after the first holder let go. */
async function checkLock(endpoint: string): Promise<void> {
  const holder = etcdctlProcess(endpoint, ['lock', 'mylock'], 'lock-holder');
  try {
    await holder.waitForLine(/^mylock\/[0-9a-f]+$/, 10_000);
    const second = etcdctl(endpoint, ['lock', 'mylock', 'echo', 'second got it'], { timeoutMs: 20_000 });
    let done = false;
    void second.then(() => (done = true));
    await sleep(1500);
    assert.equal(done, false, 'the second locker waits while the lock is held');
    holder.signal('SIGINT'); // etcdctl closes its session: the lease is revoked, the key deleted
    const r = await second;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /second got it/);
  } finally {
    await holder.stop();
  }
}

/** elect: bob is elected, and the observer told, only after alice resigns. */
async function checkElect(endpoint: string): Promise<void> {
  const alice = etcdctlProcess(endpoint, ['elect', 'myelection', 'alice'], 'elect-alice');
  const procs = [alice];
  try {
    await alice.waitForLine(/^alice$/, 10_000);
    const bob = etcdctlProcess(endpoint, ['elect', 'myelection', 'bob'], 'elect-bob');
    const observer = etcdctlProcess(endpoint, ['elect', '-l', 'myelection'], 'elect-observer');
    procs.push(bob, observer);
    await observer.waitForLine(/^alice$/, 10_000);
    await sleep(1000);
    assert.ok(!bob.tail(50).split('\n').includes('bob'), 'bob is not leader while alice is');
    alice.signal('SIGINT');
    await bob.waitForLine(/^bob$/, 10_000);
    await observer.waitForLine(/^bob$/, 10_000);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

test('etcdctl 3.4 watch, lease, lock and elect: coracle as etcd 3.4', { timeout: 240_000 }, async (t) => {
  const skip = requirePeer('etcd', 'etcdctl');
  if (skip) return t.skip(skip);
  const [etcd, coracle] = await Promise.all([startEtcd(), startCoracle(['--zk-listen', ''])]);
  try {
    const [want, got] = await Promise.all([script(etcd.endpoints[0]!), script(coracle.endpoint)]);
    assert.deepEqual(got, want);
    // Guards against two equally broken runs: the script really watched and leased.
    assert.deepEqual(want['watch foo'], ['PUT', 'foo', 'new', 'DELETE', 'foo', 'PUT', 'foo', 'again']);
    assert.ok(want['lease timetolive --keys']!.some((l) => l.includes('attached keys([lk1 lk2])')));
    await Promise.all([checkLock(etcd.endpoints[0]!), checkLock(coracle.endpoint)]);
    await Promise.all([checkElect(etcd.endpoints[0]!), checkElect(coracle.endpoint)]);
  } finally {
    await Promise.all([coracle.stop(), etcd.stop()]);
  }
});
