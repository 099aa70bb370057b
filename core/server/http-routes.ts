/**
 * HTTP/1.1 routes on the client port (etcd.md §4.5): `/health`, `/version`, `/metrics`, and the
 * JSON gateway under `/v3/` (and `/v3beta/`).
 */
import { HttpRequest, HttpResponse } from './grpc/client-listener';
import { Member } from './member';
import { AlarmType } from '../apply/apply-request';
import { memberMetricsOf, serveMetrics } from './metrics';
import type { GrpcServer } from './grpc/grpc-server';
import { gatewayServerOf, jsonGateway, type GatewayHandler } from './services/gateway-handler';

/** The etcd version Coracle claims (3.5-compatible, etcd.md §7.25). */
export const CLAIMED_VERSION = '3.5.0';

/** Writes a status line, headers and body; the union of HTTP/1 and HTTP/2 responses shares these calls. */
function send(res: HttpResponse, status: number, headers: Record<string, string>, body: string): void {
  const r = res as import('node:http').ServerResponse;
  r.writeHead(status, headers);
  r.end(body);
}

function json(res: HttpResponse, status: number, body: unknown): void {
  send(res, status, { 'content-type': 'application/json' }, JSON.stringify(body));
}

/**
 * Builds the HTTP handler for a member. The gateway runs the RPCs registered on `grpc`; without
 * it, on the server the service registration recorded for `member` (looked up per request, so
 * the order of construction does not matter).
 */
export function httpRoutes(member: Member, grpc?: GrpcServer): (req: HttpRequest, res: HttpResponse) => void {
  memberMetricsOf(member).version.set(1, { server_version: CLAIMED_VERSION });
  let gateway: GatewayHandler | undefined;
  const gatewayFor = (): GatewayHandler | undefined => {
    const server = grpc ?? gatewayServerOf(member);
    if (gateway === undefined && server !== undefined) gateway = jsonGateway(server);
    return gateway;
  };
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/version') return json(res, 200, { etcdserver: CLAIMED_VERSION, etcdcluster: '3.5.0' });
    if (url.pathname === '/health') return void health(member, req, res, url);
    if (url.pathname === '/metrics') return serveMetrics(member, req, res);
    if (gatewayFor()?.(req, res, url.pathname)) return;
    send(res, 404, { 'content-type': 'text/plain; charset=utf-8' }, '404 page not found\n');
  };
}

async function health(member: Member, req: HttpRequest, res: HttpResponse, url: URL): Promise<void> {
  if (req.method !== 'GET') {
    send(res, 405, { allow: 'GET' }, 'Method Not Allowed\n');
    return;
  }
  const verdict = await healthVerdict(member, url);
  memberMetricsOf(member).observeHealthCheck(verdict.health === 'true');
  json(res, verdict.health === 'true' ? 200 : 503, verdict);
}

/** etcd's checks in order: alarms (minus `?exclude=`), a leader, then a (linearizable) read. */
async function healthVerdict(member: Member, url: URL): Promise<{ health: 'true' | 'false'; reason: string }> {
  const exclude = url.searchParams.getAll('exclude');
  for (const a of member.alarms.list()) {
    const name = a.alarm === AlarmType.NoSpace ? 'NOSPACE' : 'CORRUPT';
    if (!exclude.includes(name)) return { health: 'false', reason: `ALARM ${name}` };
  }
  const serializable = url.searchParams.get('serializable') === 'true';
  if (!serializable && member.raftStatus().leader === 0n) return { health: 'false', reason: 'RAFT NO LEADER' };
  try {
    if (!serializable) await member.linearize();
    return { health: 'true', reason: '' };
  } catch (err) {
    return { health: 'false', reason: `RANGE ERROR:${(err as Error).message}` };
  }
}
