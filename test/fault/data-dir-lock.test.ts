/**
 * One process per data dir: a second `coracle` started on a data dir that a live one uses stops
 * at once and names the holder's pid (two members on one WAL and one LMDB file would lose
 * acknowledged writes); after the holder is killed with SIGKILL its lock is stale, and a new
 * start on the same data dir serves with the data it had.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { CORACLE_BIN, httpGet, startCoracle } from '../support/coracle-server';
import { freePorts, releasePorts } from '../support/ports';

test('a second coracle on a data dir in use stops and names the holder; kill -9 leaves no lock behind', { timeout: 90_000 }, async () => {
  const server = await startCoracle(['--zk-listen', '']);
  const [clientPort, zkPort, peerPort] = (await freePorts(3)) as [number, number, number];
  try {
    const put = await fetch(`http://${server.endpoint}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: btoa('k'), value: btoa('before the kill') }) });
    assert.equal(put.status, 200);
    const second = spawnSync(process.execPath, [
      CORACLE_BIN, '--data-dir', server.dataDir, '--listen-client-urls', `http://127.0.0.1:${clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--zk-listen', `127.0.0.1:${zkPort}`, '--log-level', 'error',
    ], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(second.status, 1, `exit ${second.status} (signal ${second.signal}): ${second.stderr}${second.stdout}`);
    assert.match(`${second.stderr}${second.stdout}`, new RegExp(`data dir .* is in use by another process \\(pid ${server.process.pid}\\)`));
    assert.equal(await httpGet(clientPort, '/health'), undefined, 'the second one serves nothing');
    assert.equal((await httpGet(server.clientPort, '/health'))?.status, 200, 'the holder serves on');

    await server.kill9();
    await server.restart();
    const got = await fetch(`http://${server.endpoint}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: btoa('k') }) });
    const body = (await got.json()) as { kvs?: Array<{ value: string }> };
    assert.equal(atob(body.kvs?.[0]?.value ?? ''), 'before the kill');
  } finally {
    await server.stop();
    releasePorts([clientPort, zkPort, peerPort]);
  }
});
