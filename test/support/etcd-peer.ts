/**
 * A real etcd (Debian's 3.4) started for one test: 1 or 3 members on 127.0.0.1 with fresh ports
 * and a fresh temp data dir, fsync on (the default), as the reference server for differential
 * tests and benchmarks.
 *
 * Readiness is `GET /health` answering `"health":"true"` on every member (which in 3.4 needs a
 * leader and a committed entry), polled in a bounded loop. If a member cannot bind its ports
 * (another process took one between our check and etcd's bind), the whole start is retried with
 * new ports, a bounded number of times.
 *
 * With the `tls` option the client URLs are `https://` (`--cert-file`, `--key-file`, and with
 * `clientCertAuth` also `--trusted-ca-file` and `--client-cert-auth`), and the health check
 * speaks TLS, with a client certificate when etcd asks for one. Peer URLs stay plain HTTP.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { ETCD_BIN } from './peers';
import { freePorts, releasePorts, retryOnPortRace } from './ports';
import { pollUntil } from './poll';
import { startProcess, type ManagedProcess } from './process';
import { createTempDir, removeTempDir } from './temp-dir';

/** Options for {@link startEtcd}. */
export interface EtcdOptions {
  /** Number of members (default 1). */
  members?: number;
  /** Extra flags for every member (e.g. `['--auto-compaction-retention=1']`). */
  extraArgs?: string[];
  /** Bound on waiting for health (default 30 s). */
  startTimeoutMs?: number;
  /** Serve clients over TLS (default: plain HTTP). */
  tls?: EtcdTlsOptions;
}

/** TLS of etcd's client URLs; every field is a PEM file path. */
export interface EtcdTlsOptions {
  /** The server certificate and key (for 127.0.0.1). */
  cert: string;
  key: string;
  /** The CA that signs `cert` (the health check trusts it) and, with `clientCertAuth`, client certificates. */
  ca: string;
  /** Require a client certificate signed by `ca` (`--client-cert-auth`). */
  clientCertAuth: boolean;
  /** The client certificate the health check presents; required with `clientCertAuth`. */
  client?: { cert: string; key: string };
}

/** One running etcd member. */
export interface EtcdMember {
  name: string;
  clientPort: number;
  peerPort: number;
  /** `http://127.0.0.1:<clientPort>` (`https://` with the `tls` option) */
  clientUrl: string;
  dataDir: string;
  /** The etcd process (replaced by {@link EtcdPeer.restartMember}). */
  process: ManagedProcess;
}

/** A running etcd cluster owned by the test. */
export interface EtcdPeer {
  /** Client URLs of all members (`http://127.0.0.1:P`, `https://` with `tls`), for etcdctl `--endpoints` and etcd3 `hosts`. */
  endpoints: string[];
  members: EtcdMember[];
  /** Milliseconds from spawn to all members healthy. */
  startupMs: number;
  /** Kill member `i` (SIGKILL: a crash, unsynced data is whatever etcd had fsynced). */
  killMember(i: number): Promise<void>;
  /** Start member `i` again on the same ports and data dir (after kill or stop); waits for health. */
  restartMember(i: number): Promise<void>;
  /** Stop all members (SIGTERM, then SIGKILL after a grace), free the ports, remove the data. */
  stop(): Promise<void>;
}

/**
 * GET `url`; resolves with the body on 200, rejects otherwise or after `timeoutMs`. An
 * `https://` URL is fetched with `tlsOptions` (CA, client certificate).
 */
export function httpGet(url: string, timeoutMs: number, tlsOptions: https.RequestOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const onResponse = (res: http.IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 1 << 20) body += c; // health bodies are tiny; bound a misbehaving server
      });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: HTTP ${res.statusCode} ${body}`))));
    };
    const req = url.startsWith('https:') ? https.get(url, { ...tlsOptions, timeout: timeoutMs }, onResponse) : http.get(url, { timeout: timeoutMs }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`${url}: timeout`)));
    req.on('error', reject);
  });
}

/** What the health check of a TLS etcd presents: the CA, and the client certificate if there is one. */
function healthTls(t: EtcdTlsOptions | undefined): https.RequestOptions {
  if (!t) return {};
  const client = t.client ? { cert: fs.readFileSync(t.client.cert), key: fs.readFileSync(t.client.key) } : {};
  return { ca: fs.readFileSync(t.ca), ...client };
}

function tlsArgs(t: EtcdTlsOptions | undefined): string[] {
  if (!t) return [];
  const auth = t.clientCertAuth ? [`--trusted-ca-file=${t.ca}`, '--client-cert-auth'] : [];
  return [`--cert-file=${t.cert}`, `--key-file=${t.key}`, ...auth];
}

async function waitHealthy(m: EtcdMember, timeoutMs: number, tlsOptions: https.RequestOptions): Promise<void> {
  await pollUntil(
    `etcd ${m.name} health`,
    async () => {
      if (m.process.exited) throw m.process.failure('exited during startup');
      const body = await httpGet(`${m.clientUrl}/health`, 1000, tlsOptions);
      return /"health"\s*:\s*"true"/.test(body) ? true : undefined;
    },
    timeoutMs,
  ).catch((err: Error) => {
    throw m.process.exited ? err : m.process.failure(err.message);
  });
}

function memberArgs(m: Omit<EtcdMember, 'process'>, initialCluster: string, token: string, extra: string[]): string[] {
  return [
    `--name=${m.name}`,
    `--data-dir=${m.dataDir}`,
    `--listen-client-urls=${m.clientUrl}`,
    `--advertise-client-urls=${m.clientUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${m.peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${m.peerPort}`,
    `--initial-cluster=${initialCluster}`,
    `--initial-cluster-token=${token}`,
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-outputs=stderr',
    ...extra,
  ];
}

async function startOnce(n: number, extra: string[], timeoutMs: number, tls: EtcdTlsOptions | undefined): Promise<EtcdPeer> {
  const health = healthTls(tls);
  const root = createTempDir('coracle-etcd-');
  const ports = await freePorts(2 * n);
  const specs = Array.from({ length: n }, (_, i) => ({
    name: `etcd-${i}`,
    clientPort: ports[2 * i] as number,
    peerPort: ports[2 * i + 1] as number,
    clientUrl: `${tls ? 'https' : 'http'}://127.0.0.1:${ports[2 * i]}`,
    dataDir: path.join(root, `etcd-${i}`),
  }));
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');
  const token = path.basename(root);
  const argsOf = specs.map((s) => memberArgs(s, initialCluster, token, [...tlsArgs(tls), ...extra]));
  const spawnMember = (i: number): ManagedProcess =>
    startProcess(ETCD_BIN, argsOf[i] as string[], { name: (specs[i] as { name: string }).name });
  const started = performance.now();
  const members: EtcdMember[] = specs.map((s, i) => ({ ...s, process: spawnMember(i) }));

  const stop = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.process.stop()));
    releasePorts(ports);
    removeTempDir(root);
  };
  try {
    await Promise.all(members.map((m) => waitHealthy(m, timeoutMs, health)));
  } catch (err) {
    await stop();
    throw err;
  }
  const member = (i: number): EtcdMember => {
    const m = members[i];
    if (!m) throw new Error(`no etcd member ${i} (have ${members.length})`);
    return m;
  };
  return {
    endpoints: members.map((m) => m.clientUrl),
    members,
    startupMs: performance.now() - started,
    async killMember(i) {
      const m = member(i);
      m.process.signal('SIGKILL');
      await m.process.waitForExit(10_000);
    },
    async restartMember(i) {
      const m = member(i);
      await m.process.stop();
      m.process = spawnMember(i);
      await waitHealthy(m, timeoutMs, health);
    },
    stop,
  };
}

/**
 * Start a real etcd on 127.0.0.1 and wait until every member is healthy. The caller must
 * `await peer.stop()` (in `t.after` or `finally`); if it does not, the process-exit handler
 * kills the members and removes the data dir.
 */
export async function startEtcd(opts: EtcdOptions = {}): Promise<EtcdPeer> {
  const n = opts.members ?? 1;
  if (opts.tls?.clientCertAuth && !opts.tls.client) throw new Error('startEtcd: tls.clientCertAuth needs tls.client (for the health check)');
  return retryOnPortRace(() => startOnce(n, opts.extraArgs ?? [], opts.startTimeoutMs ?? 30_000, opts.tls));
}
