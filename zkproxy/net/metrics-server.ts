/**
 * `ZkMetricsServer`: the HTTP endpoint of ZooKeeper's Prometheus metrics provider
 * (`metricsProvider.httpHost`, `metricsProvider.httpPort`, path `/metrics`), so a Prometheus
 * scrape job pointed at a ZooKeeper server works against Coracle unchanged. As the Java client's
 * servlet: GET, HEAD and POST answer the text (zk-prometheus-text.ts), `name[]` query parameters
 * pick families; other methods get 405, other paths 404. No authentication, as ZooKeeper's plain
 * HTTP endpoint: bind it to a trusted address.
 */
import { IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { ZkLogger } from '../logger';
import { FourLetterSource } from './four-letter-words';
import { closeHttp, listenHttp, requestUrl, sendText } from './http-listen';
import { PROMETHEUS_CONTENT_TYPE, zkPrometheusText } from './zk-prometheus-text';

/** Where the endpoint listens. */
export interface ZkMetricsServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

const ALLOWED = 'GET, HEAD, POST, OPTIONS';

/** A running metrics endpoint. */
export class ZkMetricsServer {
  private constructor(
    private readonly server: Server,
    /** The bound address. */
    readonly address: AddressInfo,
  ) {}

  /** Listens; rejects with the bind error (e.g. EADDRINUSE) so the caller can say which flag to change. */
  static async start(src: FourLetterSource, opts: ZkMetricsServerOptions, logger: ZkLogger): Promise<ZkMetricsServer> {
    const { server, address } = await listenHttp((req, res) => {
      try {
        route(req, res, src);
      } catch (e) {
        // A figure that throws is a bug; the scraper still gets an answer and the server lives on.
        logger.error({ url: req.url, err: e instanceof Error ? e.stack : String(e) }, 'metrics scrape failed');
        if (!res.headersSent) sendText(res, 500, 'text/plain', 'internal error\n');
      }
    }, opts.host, opts.port);
    return new ZkMetricsServer(server, address);
  }

  /** Stops listening and ends idle keep-alive connections. */
  async close(): Promise<void> {
    await closeHttp(this.server);
  }
}

function route(req: IncomingMessage, res: ServerResponse, src: FourLetterSource): void {
  const url = requestUrl(req.url);
  if (!url || url.pathname !== '/metrics') return sendText(res, 404, 'text/plain', `Not Found: ${url?.pathname ?? req.url}\n`);
  if (req.method === 'OPTIONS') {
    res.writeHead(200, { allow: ALLOWED, 'content-length': 0 });
    return void res.end();
  }
  if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
    res.setHeader('allow', ALLOWED);
    return sendText(res, 405, 'text/plain', `HTTP method ${req.method} is not supported by this URL\n`);
  }
  sendText(res, 200, PROMETHEUS_CONTENT_TYPE, zkPrometheusText(src, new Set(url.searchParams.getAll('name[]'))));
}
