/**
 * `startZkAdminServer`: ZooKeeper's AdminServer (3.5+, `admin.serverPort`) over node:http, for the
 * health checks and monitoring that call `GET /commands/<name>` instead of sending
 * four-letter words. As ZooKeeper 3.8's Jetty servlet: GET and HEAD run a command and answer
 * 200 with its JSON (an unknown name too, with the error inside); `GET /commands` lists the
 * primary names as links; OPTIONS says what is allowed; other methods get 405 and other paths
 * 404. Query parameters reach the command as ZooKeeper's kwargs, the first value of each
 * (`set_trace_mask?traceMask=N`). No authentication, as in 3.8: bind it to a trusted address.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { ZkLogger } from '../logger';
import { ADMIN_COMMANDS, AdminContext, AdminKwargs, runAdminCommand } from './admin-commands';
import { FourLetterSource } from './four-letter-words';
import { HttpEndpoint, requestUrl, sendText as send, serveHttp } from './http-listen';
import { formatJackson } from './jackson-json';

/** Where the AdminServer listens (admin.serverAddress, admin.serverPort, admin.commandURL). */
export interface ZkAdminOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Default `/commands`. */
  commandUrl?: string;
}

const ALLOWED = 'GET, HEAD, OPTIONS';

/** Starts the AdminServer for `src`; rejects with the bind error (e.g. EADDRINUSE). */
export async function startZkAdminServer(src: FourLetterSource, opts: ZkAdminOptions, logger: ZkLogger): Promise<HttpEndpoint> {
  const commandUrl = normalizeCommandUrl(opts.commandUrl ?? '/commands');
  const admin = { host: opts.host, port: opts.port, commandUrl };
  const ctx: AdminContext = { src, admin };
  const endpoint = await serveHttp((req, res) => route(req, res, ctx), opts.host, opts.port, logger, 'admin command failed');
  // icfg and the command list report the port actually bound (0 asks for any).
  admin.port = endpoint.address.port;
  return endpoint;
}

/** `/commands/` and `commands` both mean `/commands`. */
function normalizeCommandUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function route(req: IncomingMessage, res: ServerResponse, ctx: AdminContext): void {
  const url = requestUrl(req.url);
  if (!url) return send(res, 400, 'text/plain', `Bad Request: cannot parse the URL ${JSON.stringify(req.url)}\n`);
  const base = ctx.admin.commandUrl;
  const isList = url.pathname === base || url.pathname === `${base}/`;
  if (!isList && !url.pathname.startsWith(`${base}/`)) return send(res, 404, 'text/plain', `Not Found: ${url.pathname}\n`);
  if (req.method === 'OPTIONS') {
    res.writeHead(200, { allow: ALLOWED, 'content-length': 0 });
    return void res.end();
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', ALLOWED);
    return send(res, 405, 'text/plain', `HTTP method ${req.method} is not supported by this URL\n`);
  }
  if (isList) return send(res, 200, 'text/html', commandList(base));
  const name = decode(url.pathname.slice(base.length + 1));
  send(res, 200, 'application/json', formatJackson(runAdminCommand(name, ctx, kwargs(url.searchParams))));
}

/** Each query parameter's first value, as ZooKeeper's servlet hands them to a command. */
function kwargs(params: URLSearchParams): AdminKwargs {
  const out = new Map<string, string>();
  for (const [k, v] of params) if (!out.has(k)) out.set(k, v);
  return out;
}

/** The links page ZooKeeper serves at the command URL: every primary name, sorted. */
function commandList(base: string): string {
  const names = ADMIN_COMMANDS.map((c) => c.names[0]!).sort();
  return names.map((n) => `<a href="${base}/${n}">${n}</a>\n<br/>\n`).join('');
}


/** A percent-encoded command name; one that is not valid encoding stays as sent. */
function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
