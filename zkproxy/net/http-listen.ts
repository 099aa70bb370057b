/**
 * The HTTP servers beside the ZooKeeper port (the AdminServer, the Prometheus `/metrics`):
 * listening, with the bind error as a rejection the caller turns into "change --flag", a route's
 * bug answered 500 instead of crashing, closing without waiting for idle keep-alive
 * connections, and the small request and reply helpers both use.
 */
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { ZkLogger } from '../logger';

/** A running HTTP server: where it listens, and how to stop it. */
export class HttpEndpoint {
  constructor(
    private readonly server: Server,
    /** The bound address. */
    readonly address: AddressInfo,
  ) {}

  /** Stops listening and ends idle keep-alive connections; resolves once the server closed. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    await closed;
  }
}

/**
 * Serves `route` on `host:port` (0 picks a free port); rejects with the bind error (e.g.
 * EADDRINUSE) so the caller can say which flag to change. A route that throws is a bug: it is
 * logged as `failure`, the client still gets a 500, and the server lives on.
 */
export async function serveHttp(route: (req: IncomingMessage, res: ServerResponse) => void, host: string, port: number, logger: ZkLogger, failure: string): Promise<HttpEndpoint> {
  const server = createServer((req, res) => {
    try {
      route(req, res);
    } catch (e) {
      logger.error({ url: req.url, err: e instanceof Error ? e.stack : String(e) }, failure);
      if (!res.headersSent) sendText(res, 500, 'text/plain', 'internal error\n');
    }
  });
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
  return new HttpEndpoint(server, address);
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
