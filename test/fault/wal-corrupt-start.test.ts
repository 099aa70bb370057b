/**
 * A member whose WAL is damaged beyond a torn tail refuses to start, and says where the damage is
 * and what the operator can do next (etcd stops on such a WAL too, with less to go on).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { openSync, readdirSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { CORACLE_BIN, startCoracle } from '../support/coracle-server';
import { freePorts, releasePorts } from '../support/ports';

test('a WAL damaged at its first segment header stops the start with the next step to take', { timeout: 60_000 }, async () => {
  const server = await startCoracle(['--zk-listen', '']);
  const [clientPort, peerPort] = (await freePorts(2)) as [number, number];
  try {
    const put = await fetch(`http://${server.endpoint}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: btoa('k'), value: btoa('v') }) });
    assert.equal(put.status, 200);
    assert.equal((await server.process.stop()).code, 0);
    const walDir = path.join(server.dataDir, 'member', 'wal');
    const first = readdirSync(walDir).filter((n) => n.endsWith('.wal')).sort()[0]!;
    const fd = openSync(path.join(walDir, first), 'r+');
    writeSync(fd, Buffer.alloc(16, 0xa5), 0, 16, 0);
    closeSync(fd);
    const r = spawnSync(process.execPath, [
      CORACLE_BIN, '--data-dir', server.dataDir, '--listen-client-urls', `http://127.0.0.1:${clientPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--zk-listen', '', '--log-level', 'error',
    ], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 1, `${r.stderr}${r.stdout}`);
    const out = `${r.stderr}${r.stdout}`;
    assert.match(out, new RegExp(`wal: corrupt segment ${first.replace(/\./g, '\\.')} at offset 0`));
    assert.match(out, /etcdctl member remove.*coracle snapshot restore/, 'the next step');
  } finally {
    releasePorts([clientPort, peerPort]);
    await server.stop();
  }
});
