/**
 * The AdminServer's own edges (zkproxy/net/admin-server.ts), no peer needed: a custom command
 * URL, a port already taken (a start error naming the flag to change, nothing left running),
 * malformed requests answered without hurting the next one, and close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket, createServer, connect } from 'node:net';
import { get } from 'node:http';
import { startHarness } from './zk-harness';

function fetchText(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, timeout: 5000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** Sends raw bytes and resolves with what comes back until the server closes or 2 s pass. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const s: Socket = connect({ host: '127.0.0.1', port });
    let out = '';
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, 2000);
    s.on('data', (c) => (out += c.toString('latin1')));
    s.on('close', done);
    s.on('error', done);
    s.write(bytes);
  });
}

test('the AdminServer under a custom URL, with malformed requests', { timeout: 30_000 }, async () => {
  const h = await startHarness({ admin: { host: '127.0.0.1', port: 0, commandUrl: 'zk/' } });
  const port = h.proxy.adminAddress!.port;
  try {
    const ruok = await fetchText(port, '/zk/ruok');
    assert.equal(ruok.status, 200);
    assert.deepEqual(JSON.parse(ruok.body), { command: 'ruok', error: null });
    assert.equal((await fetchText(port, '/commands/ruok')).status, 404, 'only the configured URL answers');
    assert.match((await fetchText(port, '/zk')).body, /<a href="\/zk\/monitor">monitor<\/a>/);
    assert.match(await raw(port, 'GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.match(await raw(port, 'NOT-HTTP\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.equal(JSON.parse((await fetchText(port, '/zk/%E0%A4%A')).body).error, 'Unknown command: %E0%A4%A', 'bad percent-encoding is kept as sent');
    assert.equal((await fetchText(port, '/zk/ruok')).status, 200, 'still serving after the malformed requests');
  } finally {
    await h.stop();
  }
  await assert.rejects(fetchText(port, '/zk/ruok'), /ECONNREFUSED/, 'closed with the proxy');
});

test('an AdminServer port already taken fails the start and says which flag to change', { timeout: 30_000 }, async () => {
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const taken = (squatter.address() as { port: number }).port;
  try {
    await assert.rejects(
      startHarness({ admin: { host: '127.0.0.1', port: taken } }),
      new RegExp(`cannot serve the ZooKeeper AdminServer on 127\\.0\\.0\\.1:${taken}: .*EADDRINUSE.*--zk-admin-listen`),
    );
  } finally {
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
  }
});
