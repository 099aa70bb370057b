/**
 * Decorator for enforced authentication (ZooKeeper 3.8's `enforce.auth.enabled=true` with
 * `enforce.auth.schemes=...`, AuthenticationHelper.enforceAuthentication; the older
 * `zookeeper.sessionRequireClientSASLAuth=true` is the scheme `sasl`): every request except auth
 * (100) and sasl (102) from a connection with no identity of one of the schemes is answered
 * SESSIONCLOSEDREQUIRESASLAUTH (header only, zxid 0, whatever the scheme) and the connection is
 * closed. The session itself is left to expire, as ZooKeeper leaves it. Pings count too: a
 * client that never authenticates is dropped at its first packet. The `ip` identity every
 * connection has never counts (the schemes allowed exclude it).
 */
import { ZkErr } from '../../protocol/jute';
import { ZkLogger } from '../logger';
import { ZkHandler, decorate } from './zk-handler';

/** The schemes a connection may authenticate with to satisfy enforcement. */
export const ENFORCEABLE_AUTH_SCHEMES = ['digest', 'sasl', 'x509'] as const;

/** Wraps `inner` so that only connections authenticated with one of `schemes` get their requests served. */
export function withAuthRequired(inner: ZkHandler, schemes: readonly string[], logger: ZkLogger): ZkHandler {
  const wanted = new Set(schemes);
  return decorate(inner, (op, ctx, _req, next) => {
    if (op === 'auth' || op === 'sasl' || ctx.auth.some((a) => wanted.has(a.scheme))) return next();
    logger.warn({ op, session: ctx.session.id.toString(16), remote: ctx.remoteAddress, schemes: ctx.auth.map((a) => a.scheme), required: schemes },
      'request from a connection that has not authenticated with a required scheme; closing it');
    return Promise.resolve({ err: ZkErr.SESSIONCLOSEDREQUIRESASLAUTH, zxid: 0, close: true });
  });
}
