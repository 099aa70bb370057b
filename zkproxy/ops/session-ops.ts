/**
 * Session-level requests: ping, auth (digest and ip schemes), whoAmI, closeSession and sasl
 * (DIGEST-MD5 steps, session/sasl-authenticator.ts)
 * (zk-protocol.md §1.13, §2.1). Auth is answered at once in request order, as
 * ZooKeeper answers it outside its pipeline; a failed or unknown scheme gets AUTHFAILED and the
 * connection is closed.
 */
import { ZkErr } from '../../protocol/jute';
import { RequestOf, ZkContext, ZkReply } from '../dispatch/zk-handler';
import { digestId } from '../mapping/acl-rules';
import { inZooKeeperOrder } from '../mapping/auth-order';
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
  // X509AuthenticationProvider checks the connection's certificate again: fine when the secure
  // port already accepted one (its ids are there), AUTHFAILED without one.
  if (req.scheme === 'x509' && ctx.auth.some((a) => a.scheme === 'x509')) return { err: ZkErr.OK, zxid: 0 };
  return { err: ZkErr.AUTHFAILED, zxid: 0, close: true };
}

function addId(ctx: ZkContext, scheme: string, id: string): void {
  if (!ctx.auth.some((a) => a.scheme === scheme && a.id === id)) ctx.auth.push({ scheme, id });
}

/**
 * whoAmI (107): the connection's identities in ZooKeeper's order; digest ids shown by user name,
 * super with an empty one (no provider is registered for it to name the user).
 */
export function whoAmI(s: ZkServices, ctx: ZkContext): ZkReply {
  const clientInfo = inZooKeeperOrder(ctx.auth).map((a) => ({
    authScheme: a.scheme,
    user: a.scheme === 'digest' ? a.id.split(':')[0] ?? '' : a.scheme === 'super' ? '' : a.id,
  }));
  return { err: ZkErr.OK, zxid: s.tree.revision, body: { op: 'whoAmI', clientInfo } };
}

/** closeSession (-11): ephemerals removed in one revision; reply, then the socket closes. */
export async function closeSession(s: ZkServices, ctx: ZkContext): Promise<ZkReply> {
  const zxid = await s.sessions.close(ctx.session);
  await s.feed.reach(zxid);
  return { err: ZkErr.OK, zxid, close: true };
}

/**
 * sasl (102): one DIGEST-MD5 or GSSAPI step (ZooKeeperServer.processSasl). Replies carry zxid 0 as
 * ZooKeeper's do. On success the connection gains `sasl:<user>` (and `super` for a configured
 * super user). A failure is answered AUTHFAILED, or SESSIONCLOSEDREQUIRESASLAUTH when SASL is
 * required, with a null token in the body (the Java client reads that body even on an error:
 * without it, it would drop the connection and retry for ever instead of reporting AuthFailed),
 * and the connection is closed; with allowFailedClients it is answered OK and kept instead.
 * Without SASL configured ZooKeeper answers OK with a null token, which leaves kazoo sending
 * empty tokens for ever; we answer AUTHFAILED so every client fails fast.
 */
export function sasl(s: ZkServices, ctx: ZkContext, req: RequestOf<'sasl'>): ZkReply {
  const failed = (err: number): ZkReply => ({ err, zxid: 0, body: { op: 'sasl', token: null }, bodyOnError: true, close: true });
  if (!s.sasl) return failed(ZkErr.AUTHFAILED);
  const out = s.sasl.step(ctx, req.token ?? Buffer.alloc(0));
  if (out.ok) {
    if (out.user !== undefined) {
      addId(ctx, 'sasl', out.user);
      if (out.superUser) addId(ctx, 'super', '');
      if (out.warning) s.logger.error({ session: ctx.session.id.toString(16), remote: ctx.remoteAddress, reason: out.warning }, 'failed to set the SASL name by the Kerberos auth_to_local rules');
      s.logger.info({ session: ctx.session.id.toString(16), remote: ctx.remoteAddress, user: out.user, superUser: out.superUser }, 'SASL authenticated');
    }
    return { err: ZkErr.OK, zxid: 0, body: { op: 'sasl', token: out.token } };
  }
  s.logger.warn({ session: ctx.session.id.toString(16), remote: ctx.remoteAddress, reason: out.reason }, 'client failed to SASL authenticate');
  if (s.sasl.required) return failed(ZkErr.SESSIONCLOSEDREQUIRESASLAUTH);
  if (s.sasl.options.allowFailedClients) return { err: ZkErr.OK, zxid: 0, body: { op: 'sasl', token: null } };
  return failed(ZkErr.AUTHFAILED);
}
