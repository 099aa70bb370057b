/**
 * The Kerberos half of a ZooKeeper server's JAAS `Server` section:
 *
 *   Server {
 *     com.sun.security.auth.module.Krb5LoginModule required
 *       useKeyTab=true keyTab="/etc/zookeeper/zk.keytab" storeKey=true
 *       principal="zookeeper/zk1.example.com@EXAMPLE.COM";
 *   };
 *
 * Coracle needs only the keytab and the principal from it: it reads the service's keys itself
 * and never contacts the KDC (an acceptor does not have to).
 */
import { readFileSync } from 'node:fs';
import { type JaasConfig, JaasConfigError } from '../jaas-config';
import { AES_ETYPES } from './krb-aes';
import { type KeytabEntry, KeytabError, parseKeytab, principalMatches } from './keytab';

/** The service identity a JAAS section gives. */
export interface KerberosLogin {
  keytab: string;
  /** `service/host@REALM` (`service/host` in any realm), or `*` for any principal of the keytab. */
  principal: string;
}

/** The section's Krb5LoginModule settings; undefined when it has none. */
export function kerberosLogin(config: JaasConfig, section: string, source: string): KerberosLogin | undefined {
  const m = config.get(section)?.find((x) => x.loginModule.endsWith('.Krb5LoginModule'));
  if (!m) return undefined;
  const keytab = m.options.get('keyTab');
  const principal = m.options.get('principal');
  if (!keytab || m.options.get('useKeyTab')?.toLowerCase() !== 'true') {
    throw new JaasConfigError(`${source}: the Krb5LoginModule of section ${section} needs useKeyTab=true and keyTab="<file>" (Coracle reads the service key from a keytab; a ticket cache cannot accept clients)`);
  }
  if (!principal) throw new JaasConfigError(`${source}: the Krb5LoginModule of section ${section} has no principal="service/host@REALM" option`);
  return { keytab, principal };
}

/**
 * Reads the login's keytab and keeps the keys Coracle can use: those of the principal (all with
 * `*`) of the AES types. Throws an Error for the operator when the file is unreadable or holds
 * no such key.
 */
export function loadServiceKeys(login: KerberosLogin): KeytabEntry[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(login.keytab);
  } catch (e) {
    throw new Error(`cannot read keytab ${login.keytab}: ${(e as Error).message}`);
  }
  let all: KeytabEntry[];
  try {
    all = parseKeytab(bytes, login.keytab);
  } catch (e) {
    if (e instanceof KeytabError) throw new Error(`bad keytab: ${e.message}`);
    throw e;
  }
  const mine = all.filter((k) => principalMatches(login.principal, k.principal));
  if (mine.length === 0) {
    const names = [...new Set(all.map((k) => k.principal))];
    throw new Error(`keytab ${login.keytab} has no key for ${login.principal}${names.length > 0 ? ` (it has ${names.join(', ')})` : ' (it is empty)'}`);
  }
  const usable = mine.filter((k) => AES_ETYPES.has(k.etype));
  if (usable.length === 0) {
    const supported = [...AES_ETYPES.values()].map((p) => p.name).join(', ');
    throw new Error(`keytab ${login.keytab} has no AES key for ${login.principal} (found encryption types ${[...new Set(mine.map((k) => k.etype))].join(', ')}; Coracle supports ${supported}: re-create it with kadmin's ktadd -e)`);
  }
  return usable;
}
