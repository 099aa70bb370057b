/**
 * The default realm of this machine's Kerberos configuration (krb5.conf's `[libdefaults]
 * default_realm`), which ZooKeeper's `DEFAULT` auth_to_local rule maps (it asks the JDK, which
 * reads the same file). The file is `KRB5_CONFIG`'s first readable one (a colon-separated list,
 * as MIT's library takes it), else /etc/krb5.conf.
 */
import { readFileSync } from 'node:fs';

/** `default_realm` of `[libdefaults]` in a krb5.conf text; undefined when it has none. */
export function defaultRealmOf(text: string): string | undefined {
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      section = header[1]!.trim();
      continue;
    }
    const kv = /^default_realm\s*=\s*(\S+)$/.exec(line);
    if (section === 'libdefaults' && kv) return kv[1];
  }
  return undefined;
}

/** The default realm of the first krb5.conf that reads; undefined when none does or none names one. */
export function readDefaultRealm(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const files = env.KRB5_CONFIG ? env.KRB5_CONFIG.split(':').filter(Boolean) : ['/etc/krb5.conf'];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    return defaultRealmOf(text);
  }
  return undefined;
}
