/**
 * Session-level requests: ping, auth (digest and ip schemes), whoAmI, closeSession and sasl
 * (zk-protocol.md §1.13, §2.1). Auth is answered at once in request order, as
 * ZooKeeper answers it outside its pipeline; a failed or unknown scheme gets AUTHFAILED and the
 * connection is closed.
 */
import { ZkErr } from '../../protocol/jute';
import { RequestOf, ZkContext, ZkReply } from '../dispatch/zk-handler';
import { digestId } from '../mapping/acl-rules';
import { ZkServices } from './services';

/** ping: header only, with the current zxid. */
export function ping(s: ZkServices): ZkReply {
  return { err: ZkErr.OK, zxid: s.tree.revision };
}

/** auth (100): adds an identity to the connection. Reply zxid is 0 as ZooKeeper sends. */
export function auth(s: ZkServices, ctx: ZkContext, req: RequestOf<'auth'>): ZkReply {
  if (req.scheme === 'digest') {
    const id = digestId(req.auth.toString('utf8'));
    if (s.semantics.superDigest && id === s.semantics.superDigest) addId(ctx, 'super', '');
    addId(ctx, 'digest', id);
    return { err: ZkErr.OK, zxid: 0 };
  }
  // The ip scheme authenticates the connection's own address whatever the packet says
  // (IPAuthenticationProvider.handleAuthentication); that id is there from the start.
  if (req.scheme === 'ip') {
    addId(ctx, 'ip', ctx.remoteAddress);
    return { err: ZkErr.OK, zxid: 0 };
  }
  return { err: ZkErr.AUTHFAILED, zxid: 0, close: true };
}

function addId(ctx: ZkContext, scheme: string, id: string): void {
  if (!ctx.auth.some((a) => a.scheme === scheme && a.id === id)) ctx.auth.push({ scheme, id });
}

/** whoAmI (107): the connection's identities; digest ids shown by user name. */
export function whoAmI(s: ZkServices, ctx: ZkContext): ZkReply {
  const clientInfo = ctx.auth.map((a) => ({
    authScheme: a.scheme,
    user: a.scheme === 'digest' ? a.id.split(':')[0] ?? '' : a.id,
  }));
  return { err: ZkErr.OK, zxid: s.tree.revision, body: { op: 'whoAmI', clientInfo } };
}

/** closeSession (-11): ephemerals removed in one revision; reply, then the socket closes. */
export async function closeSession(s: ZkServices, ctx: ZkContext): Promise<ZkReply> {
  const zxid = await s.sessions.close(ctx.session);
  await s.feed.reach(zxid);
  return { err: ZkErr.OK, zxid, close: true };
}

/** sasl (102): no SASL mechanism is configured. */
export function sasl(s: ZkServices): ZkReply {
  return { err: ZkErr.AUTHFAILED, zxid: s.tree.revision, close: true };
}
