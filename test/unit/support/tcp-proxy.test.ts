/**
 * The fault tests' TCP proxy over real sockets on 127.0.0.1: it forwards both ways, `refuse`
 * resets existing and new connections, `blackhole` keeps them open but passes nothing, `hold`
 * passes nothing until the heal and then everything in order (a close too), `heal` restores
 * forwarding (and resets what was blackholed), per-source rules touch only their source, and
 * the socket-owner lookup finds this very process.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { test } from 'node:test';
import { connectingPid, TcpProxy } from '../../support/tcp-proxy';
import { sleep, waitUntil } from '../../support/poll';

/** An echo server on a run-time port. */
async function echoServer(): Promise<{ port: number; server: net.Server; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  return { port: (server.address() as net.AddressInfo).port, server, sockets };
}

/** A client connection that records what it receives and how it ended. */
function client(port: number): { sock: net.Socket; got: () => string; ended: Promise<string> } {
  const sock = net.connect({ host: '127.0.0.1', port });
  let data = '';
  sock.on('data', (b) => (data += b.toString()));
  const ended = new Promise<string>((resolve) => {
    sock.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    sock.on('close', () => resolve('close'));
  });
  return { sock, got: () => data, ended };
}

/**
 * A connection `c` that has echoed `first`; then the proxy is cut with `mode`, `c` writes
 * `second`, and a new connection `d` writes `third`; returns after 200 ms for the bytes to (not) pass.
 */
async function cutUnderTraffic(proxy: TcpProxy, mode: 'blackhole' | 'hold', [first, second, third]: [string, string, string]) {
  const c = client(proxy.port);
  c.sock.write(first);
  await waitUntil('connected', () => c.got() === first, 3000, 10);
  proxy.cut(mode);
  c.sock.write(second);
  const d = client(proxy.port);
  d.sock.write(third);
  await sleep(200);
  return { c, d };
}


test('tcp proxy: forward, refuse, blackhole, heal, per-source rules, socket owner', async (t) => {
  const echo = await echoServer();
  let source = 'a';
  const proxy = await TcpProxy.start({ targetPort: echo.port, identify: () => source });
  try {
    await t.test('forwards both ways', async () => {
      const c = client(proxy.port);
      c.sock.write('hello');
      await waitUntil('echo through the proxy', () => c.got() === 'hello', 3000, 10);
      c.sock.destroy();
    });

    await t.test('refuse resets open connections and new ones; heal lets new ones through', async () => {
      const c = client(proxy.port);
      c.sock.write('x');
      await waitUntil('connected', () => c.got() === 'x', 3000, 10);
      proxy.cut('refuse');
      assert.equal(await c.ended, 'ECONNRESET');
      const d = client(proxy.port);
      d.sock.write('y');
      assert.equal(await d.ended, 'ECONNRESET');
      assert.equal(d.got(), '');
      proxy.heal();
      const e = client(proxy.port);
      e.sock.write('z');
      await waitUntil('forwarding again', () => e.got() === 'z', 3000, 10);
      e.sock.destroy();
    });

    await t.test('blackhole keeps connections open and passes nothing; heal resets them', async () => {
      const { c, d } = await cutUnderTraffic(proxy, 'blackhole', ['1', '2', '3']);
      assert.equal(c.got(), '1', 'nothing passes an open blackholed connection');
      assert.equal(d.got(), '', 'nothing passes a new blackholed connection');
      assert.equal(c.sock.destroyed || d.sock.destroyed, false, 'both stay open');
      assert.equal(proxy.stats.blackholed, 1);
      proxy.heal();
      assert.equal(await c.ended, 'ECONNRESET');
      assert.equal(await d.ended, 'ECONNRESET');
    });

    await t.test('hold passes nothing while cut and everything, in order, after the heal', async () => {
      const { c, d } = await cutUnderTraffic(proxy, 'hold', ['a', 'b', 'x']);
      c.sock.write('c');
      await sleep(100);
      assert.equal(c.got(), 'a', 'nothing passes a held connection');
      assert.equal(d.got(), '', 'nothing passes a connection accepted while held');
      assert.equal(proxy.stats.held, 1);
      proxy.heal();
      await waitUntil('held bytes pass after the heal', () => c.got() === 'abc' && d.got() === 'x', 3000, 10);
      c.sock.write('d');
      await waitUntil('forwarding again', () => c.got() === 'abcd', 3000, 10);
      c.sock.destroy();
      d.sock.destroy();
    });

    await t.test('a close while held reaches the other side at the heal', async () => {
      const c = client(proxy.port);
      c.sock.write('a');
      await waitUntil('connected', () => c.got() === 'a' && echo.sockets.size === 1, 3000, 10);
      const [server] = [...echo.sockets];
      const serverClosed = new Promise<void>((r) => server!.on('close', () => r()));
      proxy.cut('hold');
      c.sock.end();
      await sleep(200);
      assert.equal(server!.destroyed, false, 'the close is held back');
      proxy.heal();
      await serverClosed;
      await c.ended;
    });

    await t.test('a rule for one source leaves the others alone', async () => {
      source = 'b';
      const b = client(proxy.port);
      b.sock.write('b');
      await waitUntil('b connected', () => b.got() === 'b', 3000, 10);
      proxy.cut('refuse', 'a');
      source = 'a';
      const a = client(proxy.port);
      assert.equal(await a.ended, 'ECONNRESET');
      b.sock.write('c');
      await waitUntil('b still forwarded', () => b.got() === 'bc', 3000, 10);
      proxy.link('a').heal();
      const a2 = client(proxy.port);
      a2.sock.write('a');
      await waitUntil('a forwarded again', () => a2.got() === 'a', 3000, 10);
      b.sock.destroy();
      a2.sock.destroy();
    });

    await t.test('an unknown source follows the strictest active rule', async () => {
      proxy.cut('blackhole', 'b');
      source = undefined as unknown as string;
      const u = client(proxy.port);
      u.sock.write('u');
      await sleep(200);
      assert.equal(u.got(), '');
      proxy.heal();
      assert.equal(await u.ended, 'ECONNRESET');
      source = 'a';
    });
  } finally {
    await proxy.close();
    await new Promise<void>((r) => echo.server.close(() => r()));
  }
  assert.equal(proxy.stats.open, 0, 'close leaves no connection');
});

test('connectingPid names the process that opened a connection', async () => {
  const server = net.createServer();
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  const c = net.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port });
  try {
    const s = await accepted;
    assert.equal(connectingPid(s, [process.pid]), process.pid);
    assert.equal(connectingPid(s, [1]), undefined, 'another process does not own it');
    s.destroy();
  } finally {
    c.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('tcp proxy: retarget sends new connections to the new port, open ones stay', async () => {
  const greeter = async (name: string): Promise<{ port: number; server: net.Server }> => {
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.end(name);
    });
    await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
    return { port: (server.address() as net.AddressInfo).port, server };
  };
  const a = await greeter('A');
  const b = await greeter('B');
  const proxy = await TcpProxy.start({ targetPort: a.port });
  try {
    const first = client(proxy.port);
    await first.ended;
    assert.equal(first.got(), 'A');
    proxy.retarget(b.port);
    const second = client(proxy.port);
    await second.ended;
    assert.equal(second.got(), 'B', 'a connection after the switch reaches the new target');
  } finally {
    await proxy.close();
    for (const s of [a.server, b.server]) await new Promise<void>((r) => s.close(() => r()));
  }
});
