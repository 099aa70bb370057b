/**
 * The ZooKeeper C client (`cli_mt` from zookeeper-bin 3.8) against Coracle's ZooKeeper port:
 * create (plain, ephemeral, sequential), get with its data watch, set, ls/ls2, exists, delete,
 * sync. Commands are fed one at a time, each after the previous answer had time to arrive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cClientPath, requirePeer } from '../support/peers';
import { startHarness } from './zk-harness';

async function cliMt(bin: string, connect: string, commands: string[]): Promise<string> {
  const child = spawn(bin, [connect], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise((r) => setTimeout(r, 300));
  for (const c of commands) {
    child.stdin.write(`${c}\n`);
    await new Promise((r) => setTimeout(r, 150));
  }
  child.stdin.end('quit\n');
  await closed;
  clearTimeout(killer);
  return out;
}

test('cli_mt (C client) against Coracle', { timeout: 60_000 }, async (t) => {
  const skip = requirePeer('cliMt');
  if (skip) return t.skip(skip);
  const h = await startHarness();
  try {
    const out = await cliMt(cClientPath('cli_mt')!, h.connect, [
      'create /c1', 'get /c1', 'set /c1 world', 'get /c1', 'create +e /c1/eph', 'create +s /c1/seq',
      'ls /c1', 'ls2 /c1', 'exists /c1', 'delete /c1/eph', 'exists /c1/eph', 'sync /c1', 'ls /c1',
    ]);
    assert.match(out, /Got a new session id: 0x[0-9a-f]+/);
    assert.match(out, /\[\/c1\]: rc = 0\n\s+name = \/c1/);
    assert.match(out, /Watcher CHANGED_EVENT state = CONNECTED_STATE for path \/c1/);
    assert.match(out, /value_len = 5\nworld/);
    assert.match(out, /name = \/c1\/seq0000000001/);
    assert.match(out, /\/c1: rc = 0\n\s+eph\n\s+seq0000000001/);
    assert.match(out, /Error -101 for \/c1\/eph|\/c1\/eph: rc = -101/, 'exists after delete is NONODE');
    assert.doesNotMatch(out, /rc = -(4|5|6|7)\b/, 'no connection or marshalling errors');
  } finally {
    await h.stop();
  }
});
