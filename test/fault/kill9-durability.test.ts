/**
 * Acknowledged means durable (DESIGN §4, etcd #14370): writers put keys through the etcd3 npm
 * client while the `coracle` process is killed with SIGKILL; after a restart on the same data
 * dir, every put that was acknowledged is present with its value, and the revision did not go
 * backwards. Unacknowledged puts may or may not be there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { startCoracle } from '../support/coracle-server';
import { sleep } from '../support/poll';

const WRITERS = 32;
/** Bounds: at most this many puts per writer, and at most this long before the kill. */
const MAX_PUTS_PER_WRITER = 2000;
const LOAD_MS = 1500;

test('kill -9 under write load loses no acknowledged write', async () => {
  const server = await startCoracle(['--zk-listen', '']);
  const acked = new Map<string, string>();
  let maxAckedRevision = 0;
  try {
    const client = new Etcd3({ hosts: `http://${server.endpoint}`, dialTimeout: 2000 });
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; i < MAX_PUTS_PER_WRITER && !stop; i++) {
        const key = `w${w}/k${i}`;
        const value = `v${w}-${i}-${'x'.repeat(i % 64)}`;
        try {
          const res = await client.put(key).value(value).exec();
          acked.set(key, value);
          maxAckedRevision = Math.max(maxAckedRevision, Number(res.header.revision));
        } catch {
          return; // the server died under us: this put was not acknowledged
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    await sleep(LOAD_MS);
    await server.kill9();
    stop = true;
    await Promise.all(writers);
    client.close();
    assert.ok(acked.size > 100, `the load made progress before the kill (${acked.size} acked)`);

    await server.restart();
    const after = new Etcd3({ hosts: `http://${server.endpoint}`, dialTimeout: 2000 });
    try {
      const all = await after.getAll().prefix('w').strings();
      const missing = [...acked].filter(([k, v]) => all[k] !== v);
      assert.deepEqual(missing.slice(0, 5), [], `${missing.length} of ${acked.size} acknowledged writes lost or changed`);
      const res = await after.get('w0/k0').exec();
      assert.ok(Number(res.header.revision) >= maxAckedRevision, 'revision did not go backwards');
    } finally {
      after.close();
    }
  } finally {
    await server.stop();
  }
});
