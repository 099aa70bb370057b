/**
 * One HTTP request to a server under test on 127.0.0.1, with what the HTTP edge tests look at:
 * status, content type, Allow header and the body as text. Ends when the socket stays idle past
 * a timeout (5 s unless set).
 */
import { request } from 'node:http';

/** What came back. */
export interface HttpAnswer {
  status: number;
  type: string | undefined;
  allow: string | undefined;
  body: string;
}

/** What else a request may carry. */
export interface HttpRequestOptions {
  /** The request body (a POST's). */
  body?: string;
  /** How long the socket may stay idle before the request fails (default 5 s; Node's socket timeout). */
  timeoutMs?: number;
}

/** Sends `method path` to 127.0.0.1:`port`; rejects on a connection error or once the socket is idle past the timeout. */
export function httpRequest(port: number, path: string, method = 'GET', opts: HttpRequestOptions = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, timeout: opts.timeoutMs ?? 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], allow: res.headers.allow, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
