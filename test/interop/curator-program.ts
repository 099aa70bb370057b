/**
 * The Curator recipes program (test/interop/java/curator/*.java) as seen from a test: where its
 * jars are, compiling it with javac into a temporary directory, running it against a connect
 * string, and parsing its `RESULT <check> ok|fail <details>` lines.
 *
 * Curator comes from Debian's libcurator-{client,framework,recipes}-java 5.4 (installed by
 * scripts/install-peers.sh) on top of ZooKeeper's own 3.8 jars; the classpath is built from
 * explicit jars rather than the manifests' Class-Path so that a missing jar is named here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JAVA_LIB_DIR, javaPath, peersRequired } from '../support/peers';
import { runCommand } from '../support/run-command';
import { zookeeperClasspath } from '../support/zookeeper-peer';

/** Sources, from the repo root (tests run from dist/test/interop, with the repo root as cwd). */
export const CURATOR_SOURCES = path.resolve(__dirname, '../../../test/interop/java/curator');
const MAIN_CLASS = 'CuratorRecipes';
/** Curator's jars plus Guava, which Debian's Curator uses unshaded. */
const CURATOR_JARS = ['curator-client', 'curator-framework', 'curator-recipes', 'guava'];

/**
 * Every check the program has, in its run order. Kept here too so a check dropped from the Java
 * side is a test failure, not a silent gap.
 */
export const CURATOR_CHECKS = [
  'framework', 'transaction', 'containers', 'add-watch',
  'mutex', 'mutex-session-close', 'semaphore', 'read-write-lock',
  'leader-latch', 'leader-selector',
  'curator-cache', 'curator-cache-reconnect', 'node-cache', 'path-children-cache',
  'atomic-long', 'shared-count', 'queue', 'barrier',
  'persistent-node', 'remove-watches', 'many-contenders', 'group-member', 'tree-cache',
  'big-transaction', 'session-expiry', 'session-killed', 'namespace', 'acl', 'session-negotiation',
  'container-reaping', 'ttl-node',
] as const;

/** The checks that wait for the server's container/TTL reaper (the server must run it often). */
export const REAPER_CHECKS: readonly string[] = ['container-reaping', 'ttl-node'];

/** One `RESULT` line. */
export interface CheckResult {
  ok: boolean;
  /** The details after ok/fail: deterministic facts, or the failure's reason. */
  details: string;
}

/** A finished run of the program. */
export interface CuratorRun {
  results: Map<string, CheckResult>;
  /** Whether the program printed its closing `DONE` line (false: it was killed or crashed). */
  done: boolean;
  durationMs: number;
  stdout: string;
  stderr: string;
}

/** javac next to the `java` that runs the peers (a JRE-only install has none). */
export function javacPath(): string | undefined {
  const java = javaPath();
  if (!java) return undefined;
  const candidate = path.join(path.dirname(fs.realpathSync(java)), 'javac');
  return fs.existsSync(candidate) ? candidate : undefined;
}

/**
 * The classpath for the program: ZooKeeper's (with its dependencies and an SLF4J binding), then
 * Curator's jars. Returns the reason instead when something is missing.
 */
export function curatorClasspath(dir = JAVA_LIB_DIR): string[] | string {
  const missing = CURATOR_JARS.filter((j) => !fs.existsSync(path.join(dir, `${j}.jar`)));
  if (missing.length > 0) return `${missing.map((j) => `${dir}/${j}.jar`).join(', ')} not found`;
  try {
    return [...zookeeperClasspath(dir), ...CURATOR_JARS.map((j) => path.join(dir, `${j}.jar`))];
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Why the program cannot run here (no JDK, no Curator jars), or undefined when it can. Throws
 * instead under CORACLE_REQUIRE_PEERS=1, as `requirePeer` does for the other peers.
 */
export function curatorMissing(): string | undefined {
  const cp = curatorClasspath();
  const reason = !javacPath() ? 'javac not found (a JDK, e.g. openjdk-17-jdk-headless)' : typeof cp === 'string' ? cp : undefined;
  if (!reason) return undefined;
  const message = `peer missing: Curator (${reason}); run scripts/install-peers.sh`;
  if (peersRequired()) throw new Error(`${message} [CORACLE_REQUIRE_PEERS=1]`);
  return message;
}

/** Compiles the program into `outDir`; throws with javac's output on failure. */
export async function compileCurator(outDir: string): Promise<void> {
  const cp = curatorClasspath();
  if (typeof cp === 'string') throw new Error(cp);
  const sources = fs.readdirSync(CURATOR_SOURCES).filter((f) => f.endsWith('.java')).map((f) => path.join(CURATOR_SOURCES, f));
  const r = await runCommand(javacPath()!, ['-nowarn', '-encoding', 'UTF-8', '-cp', cp.join(':'), '-d', outDir, ...sources], { timeoutMs: 90_000 });
  if (r.code !== 0) throw new Error(`javac failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}):\n${r.stdout}${r.stderr}`);
}

/** Parses the program's stdout. */
export function parseResults(stdout: string): Pick<CuratorRun, 'results' | 'done'> {
  const results = new Map<string, CheckResult>();
  let done = false;
  for (const line of stdout.split('\n')) {
    const m = /^RESULT (\S+) (ok|fail) ?(.*)$/.exec(line);
    if (m) results.set(m[1]!, { ok: m[2] === 'ok', details: m[3]! });
    else if (/^DONE \d+ \d+$/.test(line)) done = true;
  }
  return { results, done };
}

/**
 * Runs the compiled program against `connect` for `checks`. Each check bounds itself (30 s);
 * `timeoutMs` bounds the whole run, after which the results so far are returned.
 */
export async function runCurator(classDir: string, connect: string, checks: readonly string[], timeoutMs: number): Promise<CuratorRun> {
  const cp = curatorClasspath();
  if (typeof cp === 'string') throw new Error(cp);
  const r = await runCommand(javaPath()!, [
    // C1 only: these runs are short, and a quicker JIT start matters more than peak speed.
    '-XX:-UsePerfData', '-XX:TieredStopAtLevel=1',
    // The client logs a WARN for every session it closes (the server drops the socket first,
    // on ZooKeeper too); errors are enough to diagnose a failure.
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=error',
    '-cp', [classDir, ...cp].join(':'), MAIN_CLASS, connect, ...checks,
  ], { timeoutMs });
  return { ...parseResults(r.stdout), durationMs: r.durationMs, stdout: r.stdout, stderr: r.stderr };
}
