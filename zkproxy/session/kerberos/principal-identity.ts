/**
 * The `sasl` identity a Kerberos principal gets, as ZooKeeper's SaslServerCallbackHandler makes
 * it: the principal's short name by the auth_to_local rules (auth-to-local.ts), then `/host`
 * unless `kerberos.removeHostFromPrincipal`, then `@REALM` unless
 * `kerberos.removeRealmFromPrincipal`. When the rules give no short name ZooKeeper logs the
 * error and the identity is the whole principal, those two settings notwithstanding.
 */
import { AuthToLocal } from './auth-to-local';

/** How principals become identities. */
export interface PrincipalMapping {
  /** zookeeper.kerberos.removeHostFromPrincipal. */
  removeHost?: boolean;
  /** zookeeper.kerberos.removeRealmFromPrincipal. */
  removeRealm?: boolean;
  /** zookeeper.security.auth_to_local (default: DEFAULT). */
  rules?: AuthToLocal;
  /** The realm DEFAULT maps (krb5.conf's default_realm); unset: the principal's own. */
  defaultRealm?: string;
}

const DEFAULT_RULES = AuthToLocal.parse('DEFAULT');
// ZooKeeper's KerberosName: a name of at most two components and a realm.
const PRINCIPAL = /^([^/@]*)(?:\/([^/@]*))?@([^/@]*)$/;

/** The identity of `principal`, and why the rules did not map it when they did not (for the log). */
export function identityOf(principal: string, m: PrincipalMapping): { identity: string; warning?: string } {
  const p = PRINCIPAL.exec(principal);
  if (!p) return { identity: principal, warning: `${principal} is not a principal of one or two components and a realm: kept whole` };
  const [, service, host, realm] = p as unknown as [string, string, string | undefined, string];
  const short = (m.rules ?? DEFAULT_RULES).shortName({ realm, components: host === undefined ? [service] : [service, host] }, m.defaultRealm ?? realm);
  if ('error' in short) return { identity: principal, warning: `${short.error}: the identity is the whole principal` };
  return { identity: `${short.name}${host !== undefined && !m.removeHost ? `/${host}` : ''}${m.removeRealm ? '' : `@${realm}`}` };
}
