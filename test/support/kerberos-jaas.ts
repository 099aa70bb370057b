/**
 * What the Kerberos interop tests give servers and clients besides the KDC (kdc.ts): the service
 * principal, the JAAS sections that log in from a keytab, and the zkCli JVM flags that use them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Kdc } from './kdc';

/** The service principal, without the realm (the servers' JAAS files name it with it). */
export const KERBEROS_SERVICE = 'zookeeper/localhost';

/** The zoo.cfg line that makes ZooKeeper authenticate SASL clients. */
export const SASL_PROVIDER_CONFIG = { 'authProvider.sasl': 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider' };

/** A `Krb5LoginModule` JAAS section logging `principal` in from `keytab`, never from a ticket cache. */
export function krb5Section(section: 'Server' | 'Client', keytab: string, principal: string): string {
  return `${section} {\n  com.sun.security.auth.module.Krb5LoginModule required\n  useKeyTab=true\n  keyTab="${keytab}"\n`
    + `  storeKey=true\n  useTicketCache=false\n  principal="${principal}";\n};\n`;
}

/** Writes `text` as `name` in the KDC's directory (removed with it); resolves with its path. */
export function kdcFile(kdc: Kdc, name: string, text: string): string {
  const f = path.join(kdc.dir, name);
  fs.writeFileSync(f, text);
  return f;
}

/**
 * zkCli's JVM flags for Kerberos: the realm's krb5.conf and a JAAS client file (or none). The host
 * is not canonicalized (its default would reverse-resolve 127.0.0.1, which is `localhost` here but
 * may not be elsewhere), so the client asks for `zookeeper/localhost` whatever the hosts file says.
 */
export function zkCliKerberosFlags(krb5Conf: string, jaas: string | undefined): string[] {
  return [
    `-Djava.security.krb5.conf=${krb5Conf}`, '-Dzookeeper.sasl.client=true',
    '-Dzookeeper.sasl.client.canonicalize.hostname=false', ...(jaas ? [`-Djava.security.auth.login.config=${jaas}`] : []),
  ];
}
