/**
 * A throwaway MIT Kerberos KDC for tests (Debian's krb5-kdc, krb5-admin-server and krb5-user;
 * scripts/install-peers.sh installs them): realm `CORACLE.TEST`, its database, configuration,
 * keytabs and ticket caches all in one temp dir, the KDC listening on 127.0.0.1 only, UDP and TCP
 * on one port picked at run time. Nothing in /etc is read or written: every tool gets
 * `KRB5_CONFIG` (the client profile, krb5.conf) and `KRB5_KDC_PROFILE` (the KDC's, kdc.conf)
 * pointing into the dir, and the JVMs a test starts get `-Djava.security.krb5.conf`.
 *
 * `krb5kdc -n` runs in the foreground as a child of the test (so {@link Kdc.stop} and the exit
 * handler of ./process can reap it) and logs every AS-REQ/TGS-REQ with its enctypes to its
 * stderr, which lands in the process's output ring (printed when a test fails). It is ready when
 * `kinit -kt` of a probe principal succeeds, polled in a bounded loop.
 *
 * Keys are AES only: by default aes256-cts-hmac-sha1-96 and aes128-cts-hmac-sha1-96 (RFC 3962),
 * or the enctypes a test names (`enctypes`, e.g. RFC 8009's); the clients are told to ask for
 * exactly those, so every ticket has one of them.
 */
import { randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { peersRequired } from './peers';
import { pollUntil } from './poll';
import { freePort, releasePorts, retryOnPortRace } from './ports';
import { startProcess, type ManagedProcess } from './process';
import { runCommand, type CommandResult } from './run-command';
import { createTempDir, removeTempDir } from './temp-dir';

/** Debian's paths of the MIT Kerberos tools the harness runs. */
export const KRB5_TOOLS = {
  krb5kdc: '/usr/sbin/krb5kdc',
  kdb5Util: '/usr/sbin/kdb5_util',
  kadminLocal: '/usr/sbin/kadmin.local',
  kinit: '/usr/bin/kinit',
} as const;

/** The test realm. */
const TEST_REALM = 'CORACLE.TEST';

/** The default enctypes of every key and ticket (krb5.conf's permitted/default lists, ktadd's `-e`). */
const KDC_ENCTYPES = ['aes256-cts-hmac-sha1-96', 'aes128-cts-hmac-sha1-96'] as const;

/** `-e` of kadmin's addprinc/ktadd/cpw: each enctype with the normal (salted) string-to-key. */
function keySalts(enctypes: readonly string[]): string {
  return enctypes.map((e) => `${e}:normal`).join(',');
}
/** Principal whose `kinit -kt` proves the KDC answers. */
const PROBE_PRINCIPAL = 'kdc-probe';
/** Attempts at a port whose UDP side is free too. */
const PORT_ATTEMPTS = 5;
/** Bound on one tool run (they take milliseconds; a hang is a bug to report, not to wait out). */
const TOOL_TIMEOUT_MS = 20_000;

/**
 * Why the KDC cannot run here (a tool missing), or undefined when it can. Like `requirePeer`:
 * with `CORACLE_REQUIRE_PEERS=1` a missing tool throws instead, so CI fails rather than skips.
 */
export function kdcSkip(): string | undefined {
  const missing = missingTools();
  if (missing.length === 0) return undefined;
  const reason = `peer missing: MIT Kerberos (${missing.join(', ')} not found; packages krb5-kdc krb5-admin-server krb5-user); run scripts/install-peers.sh`;
  if (peersRequired()) throw new Error(`${reason} [CORACLE_REQUIRE_PEERS=1]`);
  return reason;
}

/** A running KDC owned by the test. Create with {@link startKdc}. */
export interface Kdc {
  /** `CORACLE.TEST`. */
  realm: string;
  /** The KDC's UDP and TCP port on 127.0.0.1. */
  port: number;
  /** The temp dir holding everything (database, profiles, keytabs, ticket caches, logs). */
  dir: string;
  /** Path of the client profile (krb5.conf): for `KRB5_CONFIG` and `-Djava.security.krb5.conf`. */
  krb5Conf: string;
  /** Path of the KDC profile (kdc.conf), for `KRB5_KDC_PROFILE`. */
  kdcConf: string;
  /** `KRB5_CONFIG` and `KRB5_KDC_PROFILE`, to merge into a child's environment. */
  env: Record<string, string>;
  process: ManagedProcess;
  /**
   * Create `name` (`alice`, `zookeeper/localhost`; the realm is added) with random AES keys and
   * write them to a fresh keytab; resolves with the keytab's path. Calling it again for the same
   * name gives the principal new keys (kvno + 1) and a new keytab holding only those.
   */
  addPrincipal(name: string): Promise<string>;
  /** Give `name` new random keys in the KDC only (`cpw -randkey`): keytabs written before go stale. */
  rekey(name: string): Promise<void>;
  /**
   * `kinit -kt` of `principal` (with or without the realm) into a new ticket cache of its own;
   * resolves with `FILE:<path>` for `KRB5CCNAME`. A new cache each call, so that service tickets
   * cached by an earlier client are never reused.
   */
  kinit(principal: string, keytab: string): Promise<string>;
  /** Stop the KDC (SIGTERM, then SIGKILL after a grace), free the port, remove the dir. */
  stop(): Promise<void>;
}

/** Options for {@link startKdc}. */
export interface KdcOptions {
  /** Bound on waiting until the KDC answers (default 15 s). */
  startTimeoutMs?: number;
  /** The only enctypes keys and tickets may have, preferred first (default {@link KDC_ENCTYPES}). */
  enctypes?: readonly string[];
}

/** The client profile. `udp_preference_limit = 1` sends every request over TCP (a lost UDP datagram would cost a retry timeout); no DNS and no reverse lookups, so `localhost` stays `localhost` in service principals. */
function krb5ConfText(realm: string, port: number, types: readonly string[]): string {
  const enctypes = types.join(' ');
  return `[libdefaults]
  default_realm = ${realm}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  rdns = false
  dns_canonicalize_hostname = false
  udp_preference_limit = 1
  ticket_lifetime = 1h
  forwardable = false
  permitted_enctypes = ${enctypes}
  default_tkt_enctypes = ${enctypes}
  default_tgs_enctypes = ${enctypes}

[realms]
  ${realm} = {
    kdc = 127.0.0.1:${port}
  }

[domain_realm]
  localhost = ${realm}
  .localhost = ${realm}
`;
}

/**
 * The KDC profile. `kdc_ports`/`kdc_tcp_ports` take an address since krb5 1.15: 127.0.0.1 only.
 * Logs go to files in the dir and the KDC's to stderr, never to syslog or /var/log. SPAKE
 * preauth is left out: keytab principals never use it, and without configured groups the KDC
 * logs an "(Error)" line at every start that would mislead whoever reads a failing test's output.
 */
function kdcConfText(dir: string, realm: string, port: number, enctypes: readonly string[]): string {
  return `[kdcdefaults]
  kdc_ports = 127.0.0.1:${port}
  kdc_tcp_ports = 127.0.0.1:${port}

[realms]
  ${realm} = {
    database_name = ${path.join(dir, 'principal')}
    key_stash_file = ${path.join(dir, 'stash')}
    acl_file = ${path.join(dir, 'kadm5.acl')}
    max_life = 1h
    master_key_type = ${enctypes[0]}
    supported_enctypes = ${enctypes.map((e) => `${e}:normal`).join(' ')}
  }

[plugins]
  kdcpreauth = {
    disable = spake
  }

[logging]
  kdc = STDERR
  admin_server = FILE:${path.join(dir, 'kadmin.log')}
  default = FILE:${path.join(dir, 'krb5.log')}
`;
}

/** Whether UDP `port` on 127.0.0.1 is bindable now (freePort checks TCP only). */
function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind({ address: '127.0.0.1', port, exclusive: true }, () => sock.close(() => resolve(true)));
  });
}

/** A port free for both TCP (reserved by freePort) and UDP. */
async function kdcPort(): Promise<number> {
  const busy: number[] = [];
  try {
    for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
      const p = await freePort();
      if (await udpFree(p)) return p;
      busy.push(p);
    }
  } finally {
    releasePorts(busy);
  }
  throw new Error(`startKdc: no port free for both TCP and UDP on 127.0.0.1 in ${PORT_ATTEMPTS} attempts`);
}

/** Run one Kerberos tool with the dir's profiles; throws with its output when it fails. */
async function tool(env: Record<string, string>, command: string, args: readonly string[]): Promise<CommandResult> {
  const r = await runCommand(command, args, { env, timeoutMs: TOOL_TIMEOUT_MS });
  if (r.code !== 0 || r.timedOut) {
    const how = r.timedOut ? `timed out after ${TOOL_TIMEOUT_MS} ms` : `exit ${r.code ?? r.signal}`;
    throw new Error(`${path.basename(command)} ${args.join(' ')}: ${how}\n${r.stdout}${r.stderr}`);
  }
  return r;
}

/**
 * Run one kadmin.local query. It exits 0 even when the query fails, and reports the failure on
 * stderr as `<request>: <error> while <doing>` (com_err's form): that line is the failure test.
 */
async function kadmin(env: Record<string, string>, realm: string, query: string): Promise<void> {
  const r = await tool(env, KRB5_TOOLS.kadminLocal, ['-r', realm, '-q', query]);
  const failure = /^[\w.]+: .+ while .+$/m.exec(r.stderr);
  if (failure) throw new Error(`kadmin.local -q '${query}': ${failure[0]}`);
}

/** The tools that are not installed (empty when all are). */
function missingTools(): string[] {
  return Object.values(KRB5_TOOLS).filter((f) => {
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
}

async function startOnce(opts: KdcOptions): Promise<Kdc> {
  const realm = TEST_REALM;
  const enctypes = opts.enctypes ?? KDC_ENCTYPES;
  const salts = keySalts(enctypes);
  const dir = createTempDir('coracle-kdc-');
  const port = await kdcPort();
  const krb5Conf = path.join(dir, 'krb5.conf');
  const kdcConf = path.join(dir, 'kdc.conf');
  fs.writeFileSync(krb5Conf, krb5ConfText(realm, port, enctypes));
  fs.writeFileSync(kdcConf, kdcConfText(dir, realm, port, enctypes));
  // kadmind is never run (kadmin.local works on the database file), but the profile names an
  // ACL file and an empty one keeps every tool from looking elsewhere.
  fs.writeFileSync(path.join(dir, 'kadm5.acl'), '');
  const env = { KRB5_CONFIG: krb5Conf, KRB5_KDC_PROFILE: kdcConf };
  let proc: ManagedProcess | undefined;
  let ccaches = 0;
  const stop = async (): Promise<void> => {
    await proc?.stop();
    releasePorts([port]);
    removeTempDir(dir);
  };
  const addPrincipal = async (name: string): Promise<string> => {
    const keytab = path.join(dir, `${name.replace(/[^\w.-]/g, '_')}.keytab`);
    // ktadd appends to an existing keytab; a fresh file holds only the new keys.
    fs.rmSync(keytab, { force: true });
    await kadmin(env, realm, `addprinc -randkey -e ${salts} ${name}`).catch((err: Error) => {
      if (!/already exists/i.test(err.message)) throw err;
    });
    // ktadd re-randomizes the keys (kvno + 1) and writes them: the keytab matches the KDC.
    await kadmin(env, realm, `ktadd -k ${keytab} -e ${salts} ${name}`);
    return keytab;
  };
  const kinit = async (principal: string, keytab: string): Promise<string> => {
    const name = principal.includes('@') ? principal : `${principal}@${realm}`;
    const cache = `FILE:${path.join(dir, `ccache-${name.replace(/[^\w.-]/g, '_')}-${++ccaches}`)}`;
    await tool({ ...env, KRB5CCNAME: cache }, KRB5_TOOLS.kinit, ['-kt', keytab, name]);
    return cache;
  };
  try {
    // The master key's password only guards the stash file in this dir: random, never needed again.
    const masterPassword = randomBytes(18).toString('base64url');
    await tool(env, KRB5_TOOLS.kdb5Util, ['-r', realm, 'create', '-s', '-P', masterPassword]);
    const probeKeytab = await addPrincipal(PROBE_PRINCIPAL);
    proc = startProcess(KRB5_TOOLS.krb5kdc, ['-n', '-r', realm], { name: `krb5kdc:${port}`, cwd: dir, env });
    const running = proc;
    await pollUntil(`krb5kdc on 127.0.0.1:${port}`, async () => {
      if (running.exited) throw running.failure('exited during startup');
      await kinit(PROBE_PRINCIPAL, probeKeytab);
      return true;
    }, opts.startTimeoutMs ?? 15_000, 100).catch((err: Error) => {
      throw running.exited ? err : running.failure(err.message);
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    realm, port, dir, krb5Conf, kdcConf, env, process: proc, addPrincipal, kinit, stop,
    rekey: (name) => kadmin(env, realm, `cpw -randkey -e ${salts} ${name}`),
  };
}

/**
 * Start a KDC for realm `CORACLE.TEST` on a fresh 127.0.0.1 port and wait until it issues
 * tickets. The caller must `await kdc.stop()`; if it does not, the process-exit handler kills
 * the KDC and removes its dir. Check {@link kdcSkip} first: a missing tool throws here.
 */
export async function startKdc(opts: KdcOptions = {}): Promise<Kdc> {
  const missing = missingTools();
  if (missing.length > 0) throw new Error(`startKdc: ${missing.join(', ')} not found (packages krb5-kdc krb5-admin-server krb5-user); run scripts/install-peers.sh`);
  return retryOnPortRace(() => startOnce(opts));
}
