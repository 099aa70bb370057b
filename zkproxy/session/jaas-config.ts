/**
 * The JAAS login configuration file format (javax.security.auth.login.ConfigFile), which
 * ZooKeeper operators already keep their SASL users in:
 *
 *   Server {
 *     org.apache.zookeeper.server.auth.DigestLoginModule required
 *       user_super="adminsecret"
 *       user_bob="secret";
 *   };
 *
 * The whole file is parsed the way Java parses it (sections of login modules, each with a
 * control flag and `key=value` options; `//` and `/* … *\/` comments; values quoted or bare),
 * because the same file usually also holds the Client or KafkaServer sections and Java would
 * refuse it just as well if it were malformed. A syntax error names the line. `${…}` property
 * expansion is not done: values are taken literally.
 */

/** One login module line of a section. */
export interface JaasModule {
  loginModule: string;
  /** required, requisite, sufficient or optional (lower-cased). */
  flag: string;
  options: Map<string, string>;
}

/** Section name → its modules, in file order. */
export type JaasConfig = Map<string, JaasModule[]>;

/** A malformed file or an unusable section; the message says where and what. */
export class JaasConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JaasConfigError';
  }
}

type Tok = { kind: 'word' | 'string' | 'punct'; text: string; line: number };

const FLAGS = new Set(['required', 'requisite', 'sufficient', 'optional']);
const PUNCT = new Set(['{', '}', ';', '=']);
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

function tokenize(text: string, source: string): Tok[] {
  const toks: Tok[] = [];
  let line = 1;
  let i = 0;
  const fail = (msg: string): never => {
    throw new JaasConfigError(`${source}:${line}: ${msg}`);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') { line++; i++; continue; }
    if (c <= ' ') { i++; continue; }
    if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) fail('unterminated /* comment');
      for (let j = i; j < end; j++) if (text[j] === '\n') line++;
      i = end + 2;
      continue;
    }
    if (PUNCT.has(c)) { toks.push({ kind: 'punct', text: c, line }); i++; continue; }
    if (c === '"') {
      const start = line;
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) { line = start; fail('unterminated quoted string'); }
        const d = text[i++]!;
        if (d === '"') break;
        if (d === '\n') line++;
        if (d === '\\' && i < text.length) {
          const e = text[i++]!;
          s += ESCAPES[e] ?? e;
        } else s += d;
      }
      toks.push({ kind: 'string', text: s, line: start });
      continue;
    }
    let j = i;
    while (j < text.length && text[j]! > ' ' && !PUNCT.has(text[j]!) && text[j] !== '"' && !text.startsWith('//', j) && !text.startsWith('/*', j)) j++;
    toks.push({ kind: 'word', text: text.slice(i, j), line });
    i = j;
  }
  return toks;
}

/** Parses a whole JAAS configuration file; `source` (a path) prefixes error messages. */
export function parseJaasConfig(text: string, source = 'jaas config'): JaasConfig {
  const toks = tokenize(text, source);
  const config: JaasConfig = new Map();
  let k = 0;
  const lastLine = toks.length > 0 ? toks[toks.length - 1]!.line : 1;
  const next = (what: string): Tok => {
    const t = toks[k++];
    if (!t) throw new JaasConfigError(`${source}:${lastLine}: unexpected end of file, expected ${what}`);
    return t;
  };
  const expect = (p: string): void => {
    const t = next(`'${p}'`);
    if (t.kind !== 'punct' || t.text !== p) throw new JaasConfigError(`${source}:${t.line}: expected '${p}', found '${t.text}'`);
  };
  while (k < toks.length) {
    const name = next('a section name');
    if (name.kind !== 'word') throw new JaasConfigError(`${source}:${name.line}: expected a section name, found '${name.text}'`);
    if (config.has(name.text)) throw new JaasConfigError(`${source}:${name.line}: section ${name.text} appears twice`);
    expect('{');
    const modules: JaasModule[] = [];
    for (;;) {
      const t = next(`a login module or '}' in section ${name.text}`);
      if (t.kind === 'punct' && t.text === '}') break;
      if (t.kind !== 'word') throw new JaasConfigError(`${source}:${t.line}: expected a login module class, found '${t.text}'`);
      const flag = next(`the control flag of ${t.text}`);
      if (flag.kind !== 'word' || !FLAGS.has(flag.text.toLowerCase())) {
        throw new JaasConfigError(`${source}:${flag.line}: expected a control flag (required, requisite, sufficient, optional) after ${t.text}, found '${flag.text}'`);
      }
      const options = new Map<string, string>();
      for (;;) {
        const o = next(`an option or ';' after ${t.text}`);
        if (o.kind === 'punct' && o.text === ';') break;
        if (o.kind !== 'word') throw new JaasConfigError(`${source}:${o.line}: expected an option name or ';', found '${o.text}'`);
        expect('=');
        const v = next(`the value of ${o.text}`);
        if (v.kind === 'punct') throw new JaasConfigError(`${source}:${v.line}: expected the value of ${o.text}, found '${v.text}'`);
        options.set(o.text, v.text);
      }
      modules.push({ loginModule: t.text, flag: flag.text.toLowerCase(), options });
    }
    expect(';');
    config.set(name.text, modules);
  }
  return config;
}

const USER_PREFIX = 'user_';

/**
 * The DIGEST-MD5 users of a section, as ZooKeeper's SaslServerCallbackHandler collects them:
 * every `user_<name>="<password>"` option of every module of the section. Throws when the
 * section is missing, or defines no user and `allowNone` is not set (a section whose only
 * login is Kerberos passes `allowNone`).
 */
export function digestUsers(config: JaasConfig, section = 'Server', source = 'jaas config', allowNone = false): Map<string, string> {
  const modules = config.get(section);
  if (!modules) {
    const have = [...config.keys()];
    throw new JaasConfigError(`${source}: no '${section}' section${have.length > 0 ? ` (found: ${have.join(', ')})` : ''}`);
  }
  const users = new Map<string, string>();
  for (const m of modules) {
    for (const [key, value] of m.options) {
      if (!key.startsWith(USER_PREFIX)) continue;
      const name = key.slice(USER_PREFIX.length);
      if (name === '') throw new JaasConfigError(`${source}: section ${section} has an option '${USER_PREFIX}' with no user name`);
      users.set(name, value);
    }
  }
  if (users.size === 0 && !allowNone) {
    throw new JaasConfigError(`${source}: section ${section} defines no SASL login: give it DIGEST-MD5 users (org.apache.zookeeper.server.auth.DigestLoginModule with user_<name>="<password>" options) or a Kerberos service key (com.sun.security.auth.module.Krb5LoginModule with useKeyTab=true keyTab="<file>" principal="<service/host@REALM>")`);
  }
  return users;
}
