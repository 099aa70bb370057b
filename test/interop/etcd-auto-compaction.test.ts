/**
 * Auto compaction (`--auto-compaction-mode`, `--auto-compaction-retention`) against real etcd
 * 3.4 with etcdctl: with a 2 s periodic retention both servers compact an old revision away by
 * themselves and answer a read at it with the same error; bad settings are refused at start with
 * etcd's wording. With the ZooKeeper port on and no retention set, Coracle compacts by default
 * (ZooKeeper clients never compact); with it off, it keeps etcd's default (no compaction).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requirePeer, ETCD_BIN } from '../support/peers';
import { etcdctl, etcdctlJson } from '../support/etcdctl';
import { startCoracle, CORACLE_BIN } from '../support/coracle-server';
import { startEtcd } from '../support/etcd-peer';
import { pollUntil } from '../support/poll';
import { runCommand } from '../support/run-command';
import { createTempDir, removeTempDir } from '../support/temp-dir';

const COMPACTED = 'etcdserver: mvcc: required revision has been compacted';

/** Puts k twice; waits (≤ 20 s) until a read at the first put's revision is refused; returns the error. */
async function waitForCompaction(endpoint: string): Promise<string> {
  const first = await etcdctlJson<{ header: { revision: number } }>(endpoint, ['put', 'ac/k', 'v1', '-w', 'json']);
  const rev = first.header.revision;
  assert.equal((await etcdctl(endpoint, ['put', 'ac/k', 'v2'])).code, 0);
  const atRev = await etcdctl(endpoint, ['get', 'ac/k', `--rev=${rev}`, '--print-value-only']);
  assert.equal(atRev.stdout.trim(), 'v1', `revision ${rev} compacted at once: ${atRev.stderr}`);
  const err = await pollUntil(`a read at revision ${rev} refused as compacted`, async () => {
    const r = await etcdctl(endpoint, ['get', 'ac/k', `--rev=${rev}`]);
    return r.code !== 0 ? r.stderr : undefined;
  }, 20_000, 500);
  const now = await etcdctl(endpoint, ['get', 'ac/k', '--print-value-only']);
  assert.equal(now.stdout.trim(), 'v2', 'compaction must keep the current value');
  return err;
}

test('periodic 2s: Coracle and etcd 3.4 both compact old revisions away by themselves', { timeout: 90_000 }, async (t) => {
  const skip = requirePeer('etcd', 'etcdctl');
  if (skip) return t.skip(skip);
  const etcd = await startEtcd({ extraArgs: ['--auto-compaction-retention=2s'] });
  const coracle = await startCoracle(['--auto-compaction-retention=2s', '--zk-listen', '']);
  try {
    const [fromEtcd, fromCoracle] = await Promise.all([
      waitForCompaction(etcd.endpoints[0]!.replace('http://', '')),
      waitForCompaction(coracle.endpoint),
    ]);
    assert.match(fromEtcd, new RegExp(`Error: ${COMPACTED}`));
    assert.match(fromCoracle, new RegExp(`Error: ${COMPACTED}`));
  } finally {
    await Promise.all([etcd.stop(), coracle.stop()]);
  }
});

test('a bad mode or retention is refused at start, in etcd\'s words', { timeout: 60_000 }, async (t) => {
  const skip = requirePeer('etcd');
  if (skip) return t.skip(skip);
  const dir = createTempDir('coracle-ac-');
  try {
    for (const [flags, message] of [
      [['--auto-compaction-mode=hourly', '--auto-compaction-retention=1'], 'unknown auto-compaction-mode "hourly"'],
      [['--auto-compaction-retention=5 minutes'], 'error parsing CompactionRetention: time: unknown unit " minutes" in duration "5 minutes"'],
      [['--auto-compaction-retention=1.5'], 'error parsing CompactionRetention: time: missing unit in duration "1.5"'],
    ] as const) {
      const ours = await runCommand(process.execPath, [CORACLE_BIN, '--data-dir', `${dir}/c`, ...flags], { timeoutMs: 20_000 });
      assert.equal(ours.code, 2, `coracle ${flags.join(' ')} exited ${ours.code}: ${ours.stderr}`);
      assert.ok(ours.stderr.includes(message), ours.stderr);
      const theirs = await runCommand(ETCD_BIN, ['--data-dir', `${dir}/e`, '--listen-client-urls', 'http://127.0.0.1:0', '--advertise-client-urls', 'http://127.0.0.1:0', '--listen-peer-urls', 'http://127.0.0.1:0', ...flags], { timeoutMs: 20_000 });
      assert.notEqual(theirs.code, 0);
      assert.ok(theirs.stderr.includes(message), `etcd 3.4 said: ${theirs.stderr}`);
    }
  } finally {
    removeTempDir(dir);
  }
});

test('with the ZooKeeper port on, history is compacted by default; with it off, kept as etcd does', { timeout: 60_000 }, async () => {
  const enabled = /"component":"auto-compactor".*"retention":"([^"]+)".*"msg":"auto compaction enabled"/;
  const zkOn = await startCoracle(['--log-level', 'info']);
  try {
    const line = await zkOn.process.waitForLine(enabled, 5_000);
    assert.equal(enabled.exec(line)?.[1], '5m');
  } finally {
    await zkOn.stop();
  }
  for (const args of [['--zk-listen', ''], ['--auto-compaction-retention=0']]) {
    const s = await startCoracle([...args, '--log-level', 'info']);
    try {
      assert.doesNotMatch(s.process.tail(), enabled, `compaction enabled with ${args.join(' ')}`);
    } finally {
      await s.stop();
    }
  }
});
