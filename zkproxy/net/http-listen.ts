/**
 * The HTTP servers beside the ZooKeeper port (the AdminServer, the Prometheus `/metrics`):
 * listening, with the bind error as a rejection the caller turns into "change --flag", and
 * closing without waiting for idle keep-alive connections.
 */
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';

/** Listens on `host:port` (0 picks a free port); rejects with the bind error (e.g. EADDRINUSE). */
export async function listenHttp(handler: (req: IncomingMessage, res: ServerResponse) => void, host: string, port: number): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer(handler);
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
  return { server, address };
}

/** Stops listening and ends idle keep-alive connections; resolves once the server closed. */
export async function closeHttp(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
}

/** Answers `status` with `body`; a HEAD request gets the headers only. */
export function sendText(res: ServerResponse, status: number, type: string, body: string): void {
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, { 'content-type': type, 'content-length': bytes.length });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

/** The request target as a URL (an absolute one too, as proxies send it); undefined when it does not parse. */
export function requestUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}
