/**
 * ACL semantics (zk-protocol.md §1.13, §2.4, §6.16): the permission check (ZooKeeperServer
 * .checkACL), the fix-up of a client-supplied ACL list (PrepRequestProcessor.fixupACL), the
 * digest scheme, ip matching and the sasl and x509 schemes' rules. Pure functions over lists; no I/O.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { Acl, Id, Perms, ZkErr } from '../../protocol/jute';
import { fail } from '../errors/zk-error';
import { inZooKeeperOrder } from './auth-order';
import { isValidX500Name } from '../session/x509-identity';

/** An authenticated identity of a connection (the ip id is always present). */
export type AuthId = Id;

/** The digest id of "user:password": `user:base64(sha1("user:password"))`. */
export function digestId(userPassword: string): string {
  const i = userPassword.indexOf(':');
  const user = i < 0 ? userPassword : userPassword.slice(0, i);
  return `${user}:${createHash('sha1').update(userPassword, 'utf8').digest('base64')}`;
}

/** True when some entry of `acl` grants any bit of `perm` to an identity in `auth`. */
export function aclAllows(acl: readonly Acl[], perm: number, auth: readonly AuthId[]): boolean {
  if (acl.length === 0) return true;
  if (auth.some((a) => a.scheme === 'super')) return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    const { scheme, id } = entry.id;
    if (scheme === 'world' && id === 'anyone') return true;
    for (const a of auth) {
      if (a.scheme !== scheme) continue;
      if (scheme === 'ip' ? ipMatches(a.id, id) : a.id === id) return true;
      // SASLAuthenticationProvider.matches: the SASL user named "super" matches every sasl id.
      if (scheme === 'sasl' && a.id === 'super') return true;
    }
  }
  return false;
}

/** Throws NOAUTH unless {@link aclAllows}. */
export function checkAcl(acl: readonly Acl[], perm: number, auth: readonly AuthId[]): void {
  if (!aclAllows(acl, perm, auth)) fail(ZkErr.NOAUTH);
}

/**
 * The ACL list to store for a client-supplied one: duplicates removed, `auth` ids replaced by
 * the connection's authenticated (non-ip) ids; INVALIDACL for an empty list, an `auth` entry
 * with nothing authenticated, or an id its scheme does not accept.
 */
export function fixupAcl(acl: readonly Acl[], auth: readonly AuthId[]): Acl[] {
  if (acl.length === 0) fail(ZkErr.INVALIDACL, 'empty ACL');
  const out: Acl[] = [];
  const push = (a: Acl): void => {
    if (!out.some((o) => o.perms === a.perms && o.id.scheme === a.id.scheme && o.id.id === a.id.id)) out.push(a);
  };
  for (const a of acl) {
    const { scheme, id } = a.id;
    if (scheme === 'world' && id === 'anyone') push(a);
    else if (scheme === 'auth') {
      // The ids of registered providers that say isAuthenticated(): not ip, and not super (no
      // provider is registered for it), in the order ZooKeeper's set of ids iterates.
      const ids = inZooKeeperOrder(auth).filter((x) => x.scheme === 'digest' || x.scheme === 'sasl' || x.scheme === 'x509');
      if (ids.length === 0) fail(ZkErr.INVALIDACL, 'auth scheme with no authenticated ids');
      for (const x of ids) push({ perms: a.perms, id: { scheme: x.scheme, id: x.id } });
    } else if (scheme === 'digest') {
      if (id.split(':').length !== 2) fail(ZkErr.INVALIDACL, `bad digest id ${id}`);
      push(a);
    } else if (scheme === 'ip') {
      if (!validIpExpr(id)) fail(ZkErr.INVALIDACL, `bad ip id ${id}`);
      push(a);
    } else if (scheme === 'sasl') {
      if (!validSaslId(id)) fail(ZkErr.INVALIDACL, `bad sasl id ${id}`);
      push(a);
    } else if (scheme === 'x509') {
      // Like sasl, accepted whether or not this proxy has a secure port: ACLs written through one
      // that has stay valid everywhere.
      if (!isValidX500Name(id)) fail(ZkErr.INVALIDACL, `bad x509 id ${id}`);
      push(a);
    } else fail(ZkErr.INVALIDACL, `unknown scheme ${scheme}`);
  }
  return out;
}

/** getACL without ADMIN shows digest ids as "user:x" (FinalRequestProcessor, ZOOKEEPER-1392). */
export function maskDigests(acl: readonly Acl[]): Acl[] {
  return acl.map((a) =>
    a.id.scheme === 'digest' ? { perms: a.perms, id: { scheme: 'digest', id: a.id.id.replace(/:.*/s, ':x') } } : a,
  );
}

/** The address a socket reports, without the IPv4-mapped IPv6 prefix. */
export function normalizeAddress(addr: string | undefined): string {
  if (!addr) return '';
  return addr.startsWith('::ffff:') && isIP(addr.slice(7)) === 4 ? addr.slice(7) : addr;
}

/**
 * SASLAuthenticationProvider.isValid: a name Kerberos can parse — one without '@', or
 * `service[/host]@REALM` with no further '/' or '@'. The sasl scheme is always accepted (ZooKeeper
 * needs authProvider.sasl for it): ACLs written through a SASL-enabled proxy stay valid on the
 * other proxies of the cluster and in migrated data.
 */
function validSaslId(id: string): boolean {
  return !id.includes('@') || /^[^/@]*(\/[^/@]*)?@[^/@]*$/.test(id);
}

function validIpExpr(expr: string): boolean {
  const [addr, bits, extra] = expr.split('/');
  if (extra !== undefined || !addr) return false;
  const kind = isIP(addr);
  if (kind === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return Number.isInteger(n) && n >= 0 && n <= (kind === 4 ? 32 : 128);
}

/** True when address `addr` lies in `expr` (an address or an IPv4 CIDR). */
export function ipMatches(addr: string, expr: string): boolean {
  const [net, bitsText] = expr.split('/');
  if (!net) return false;
  if (bitsText === undefined) return addr === net;
  const a = ipv4ToInt(addr);
  const b = ipv4ToInt(net);
  const bits = Number(bitsText);
  if (a === undefined || b === undefined || !(bits >= 0 && bits <= 32)) return addr === net;
  if (bits === 0) return true;
  const mask = (0xffffffff << (32 - bits)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

function ipv4ToInt(s: string): number | undefined {
  if (isIP(s) !== 4) return undefined;
  return s.split('.').reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
}

/** The open ACL: all permissions to world:anyone (ZooDefs.Ids.OPEN_ACL_UNSAFE). */
export const OPEN_ACL_UNSAFE: Acl[] = [{ perms: Perms.ALL, id: { scheme: 'world', id: 'anyone' } }];

/** True for exactly the open ACL (world:anyone, all permissions), which the key schema stores as "no ACL key". */
export function isOpenAcl(acl: readonly Acl[]): boolean {
  return acl.length === 1 && acl[0]!.perms === Perms.ALL && acl[0]!.id.scheme === 'world' && acl[0]!.id.id === 'anyone';
}

/** Read-only to world:anyone (ZooDefs.Ids.READ_ACL_UNSAFE), the ACL of /zookeeper/config. */
export const READ_ACL_UNSAFE: Acl[] = [{ perms: Perms.READ, id: { scheme: 'world', id: 'anyone' } }];
