/**
 * `startZkMetricsServer`: the HTTP endpoint of ZooKeeper's Prometheus metrics provider
 * (`metricsProvider.httpHost`, `metricsProvider.httpPort`, path `/metrics`), so a Prometheus
 * scrape job pointed at a ZooKeeper server works against Coracle unchanged. As the Java client's
 * servlet: GET, HEAD and POST answer the text (zk-prometheus-text.ts), `name[]` query parameters
 * pick families; other methods get 405, other paths 404. No authentication, as ZooKeeper's plain
 * HTTP endpoint: bind it to a trusted address.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { ZkLogger } from '../logger';
import { FourLetterSource } from './four-letter-words';
import { HttpEndpoint, requestUrl, sendText, serveHttp } from './http-listen';
import { PROMETHEUS_CONTENT_TYPE, zkPrometheusText } from './zk-prometheus-text';

/** Where the endpoint listens. */
export interface ZkMetricsServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

const ALLOWED = 'GET, HEAD, POST, OPTIONS';

/** Starts the endpoint for `src`, and with it the latency summaries; rejects with the bind error (e.g. EADDRINUSE). */
export async function startZkMetricsServer(src: FourLetterSource, opts: ZkMetricsServerOptions, logger: ZkLogger): Promise<HttpEndpoint> {
  // The summaries count from here, as ZooKeeper's provider counts from its start.
  src.stats.latencySummaries();
  return serveHttp((req, res) => route(req, res, src), opts.host, opts.port, logger, 'metrics scrape failed');
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
