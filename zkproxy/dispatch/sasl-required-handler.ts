/**
 * Decorator for SASL-required mode (zookeeper.sessionRequireClientSASLAuth=true, or
 * enforce.auth.enabled=true with enforce.auth.schemes=sasl; AuthenticationHelper
 * .enforceAuthentication in ZooKeeper 3.8): every request except auth (100) and sasl (102) from
 * a connection without a `sasl` identity is answered SESSIONCLOSEDREQUIRESASLAUTH (header only,
 * zxid 0) and the connection is closed. The session itself is left to expire, as ZooKeeper
 * leaves it. Pings count too: a client that never authenticates is dropped at its first packet.
 */
import { ZkErr } from '../../protocol/jute';
import { ZkLogger } from '../logger';
import { ZkHandler, decorate } from './zk-handler';

/** Wraps `inner` so that only SASL-authenticated connections get their requests served. */
export function withSaslRequired(inner: ZkHandler, logger: ZkLogger): ZkHandler {
  return decorate(inner, (op, ctx, _req, next) => {
    if (op === 'auth' || op === 'sasl' || ctx.auth.some((a) => a.scheme === 'sasl')) return next();
    logger.warn({ op, session: ctx.session.id.toString(16), remote: ctx.remoteAddress, schemes: ctx.auth.map((a) => a.scheme) },
      'request from a connection that has not SASL-authenticated; closing it');
    return Promise.resolve({ err: ZkErr.SESSIONCLOSEDREQUIRESASLAUTH, zxid: 0, close: true });
  });
}
