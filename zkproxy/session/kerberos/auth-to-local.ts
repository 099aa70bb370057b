/**
 * Kerberos principal → short name, by ZooKeeper's `zookeeper.security.auth_to_local` rules
 * (its KerberosName, after Hadoop's): a list of `DEFAULT` and `RULE:[n:format](match)s/from/to/g`
 * entries, tried in order, the first that yields a name winning.
 *
 * - `DEFAULT` yields the first component of a principal of the default realm (krb5.conf's
 *   `default_realm`), and nothing for another realm.
 * - `RULE:[n:format]` applies to principals of `n` components: `format` is filled with `$0` (the
 *   realm), `$1`, `$2` (the components); the optional `(match)` must match the result whole; the
 *   optional `s/from/to/` (`g`: every match) rewrites it.
 * - A rule whose result holds `/` or `@` stops the search with an error, as does no rule at all:
 *   ZooKeeper then logs it and keeps the full principal as the identity (sasl-gssapi.ts).
 *
 * The patterns are Java regular expressions; the usual ones (`.*`, classes, anchors, groups)
 * mean the same in JavaScript, and `$n` in a replacement is a group in both.
 */

/** The rules text does not parse: ZooKeeper refuses to start on it too. */
export class AuthToLocalError extends Error {}

/** A principal's parts: realm, then one or two components (`a/b@R` → R, a, b). */
export interface PrincipalParts {
  realm: string;
  components: string[];
}

type Rule =
  | { kind: 'default' }
  | { kind: 'rule'; n: number; format: string; match?: RegExp; from?: RegExp; to: string; text: string };

/** The result of a mapping: the short name, or why none (the caller keeps the full principal). */
export type ShortName = { name: string } | { error: string };

// As ZooKeeper's ruleParser: each entry, then the rest.
const RULE = /^\s*(?:(DEFAULT)|RULE:\[(\d*):([^\]]*)\](?:\(([^)]*)\))?(?:s\/([^/]*)\/([^/]*)\/(g)?)?)/;

/** Parsed auth_to_local rules; see the file comment. */
export class AuthToLocal {
  private constructor(private readonly rules: readonly Rule[]) {}

  /** Parses a rules text (entries separated by whitespace). Throws {@link AuthToLocalError}. */
  static parse(text: string): AuthToLocal {
    const rules: Rule[] = [];
    let rest = text.trim();
    while (rest.length > 0) {
      const m = RULE.exec(rest);
      if (!m) throw new AuthToLocalError(`invalid rule: ${rest}`);
      rules.push(m[1] ? { kind: 'default' } : ruleOf(m));
      rest = rest.slice(m[0].length).trim();
    }
    return new AuthToLocal(rules);
  }

  /** The short name of `p` by the first rule that applies; `defaultRealm` is what DEFAULT compares with. */
  shortName(p: PrincipalParts, defaultRealm: string): ShortName {
    const params = [p.realm, ...p.components];
    for (const r of this.rules) {
      const name = r.kind === 'default' ? (p.realm === defaultRealm ? p.components[0]! : undefined) : applyRule(r, params);
      if (typeof name === 'object') return name;
      if (name === undefined) continue;
      if (/[/@]/.test(name)) return { error: `non-simple name ${name} after auth_to_local rule ${r.kind === 'default' ? 'DEFAULT' : r.text}` };
      return { name };
    }
    return { error: `no auth_to_local rule applied to ${p.components.join('/')}@${p.realm}` };
  }
}

function ruleOf(m: RegExpExecArray): Rule {
  const [text, , n, format, match, from, to, g] = m;
  if (n === '') throw new AuthToLocalError(`invalid rule: ${text.trim()} (no component count)`);
  try {
    return {
      kind: 'rule', n: Number(n), format: format!, text: text.trim(),
      match: match === undefined ? undefined : new RegExp(`^(?:${match})$`),
      from: from === undefined ? undefined : new RegExp(from, g ? 'g' : ''),
      to: replacementOf(to ?? ''),
    };
  } catch (e) {
    throw new AuthToLocalError(`invalid rule: ${text.trim()} (${(e as Error).message})`);
  }
}

/** The name a RULE gives, undefined when it does not apply, or the error that stops the search. */
function applyRule(r: Extract<Rule, { kind: 'rule' }>, params: string[]): string | undefined | { error: string } {
  if (params.length - 1 !== r.n) return undefined;
  const base = fill(r.format, params);
  if (typeof base === 'object') return base;
  if (r.match && !r.match.test(base)) return undefined;
  return r.from ? base.replace(r.from, r.to) : base;
}

/** `format` with `$n` replaced by `params[n]` (ZooKeeper's replaceParameters). */
function fill(format: string, params: string[]): string | { error: string } {
  let out = '';
  for (const m of format.matchAll(/([^$]*)(?:\$(\d*))?/g)) {
    if (m[0] === '') continue;
    out += m[1];
    if (m[2] === undefined) continue;
    const n = Number(m[2]);
    // An empty or out-of-range index is the rule's fault: ZooKeeper fails the mapping.
    if (m[2] === '' || n >= params.length) return { error: `index ${m[2]} from ${format} is outside of the valid range 0 to ${params.length - 1}` };
    out += params[n];
  }
  return out;
}

/** A Java replacement string as JavaScript's: `\x` is a literal x, `$n` a group. */
function replacementOf(java: string): string {
  let out = '';
  for (let i = 0; i < java.length; i++) {
    const c = java[i]!;
    if (c === '\\' && i + 1 < java.length) {
      const next = java[++i]!;
      out += next === '$' ? '$$' : next;
    } else if (c === '$') {
      const digits = /^\d+/.exec(java.slice(i + 1));
      if (!digits) throw new AuthToLocalError(`illegal group reference in ${java}`);
      out += `$${digits[0]}`;
      i += digits[0].length;
    } else out += c;
  }
  return out;
}
