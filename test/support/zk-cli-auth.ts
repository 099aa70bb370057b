/**
 * zkCli.sh runs for the SASL tests (DIGEST-MD5 and Kerberos): a run with extra JVM flags (the
 * JAAS client file, krb5.conf) and its transcript reduced to what two servers must agree on.
 */
import assert from 'node:assert/strict';
import { withoutSessionEvents, zkCli } from './zk-cli';

/**
 * zkCli with `flags` added to CLIENT_JVMFLAGS. zkCli's helper reads that variable at call
 * time, so it is set around this one call: callers must not run two at once.
 */
export async function zkCliWithFlags(connect: string, commands: readonly string[], flags: readonly string[]): Promise<string> {
  const saved = process.env.CLIENT_JVMFLAGS;
  process.env.CLIENT_JVMFLAGS = [saved ?? '', ...flags].join(' ').trim();
  try {
    const r = await zkCli(connect, commands, { mergeStderr: true, timeoutMs: 45_000, sessionTimeoutMs: 10_000 });
    assert.ok(!r.timedOut, `zkCli timed out:\n${r.stdout}`);
    return r.stdout;
  } finally {
    if (saved === undefined) delete process.env.CLIENT_JVMFLAGS;
    else process.env.CLIENT_JVMFLAGS = saved;
  }
}

/** A zkCli transcript split into what can be compared across servers. */
export interface AuthTranscript {
  /**
   * The session's events in order (SyncConnected, SaslAuthenticated, AuthFailed), without
   * Disconnected and Closed: zkCli may exit before its event thread prints those last ones.
   */
  events: string[];
  /**
   * Command output without the event blocks (whose place among the output lines is a race
   * between the client's threads), addresses masked, whoami's identities sorted (ZooKeeper keeps
   * them in a hash set).
   */
  output: string;
}

/** Reduces a raw zkCli run (stdout and stderr merged) to an {@link AuthTranscript}. */
export function authTranscript(raw: string): AuthTranscript {
  const events = [...raw.matchAll(/WatchedEvent state:(\w+) type:None path:null/g)].map((m) => m[1]!).filter((e) => e !== 'Closed' && e !== 'Disconnected');
  let output = withoutSessionEvents(raw).replace(/(127\.0\.0\.1|localhost):\d+/g, 'HOST:PORT');
  output = output.replace(/(Auth scheme: User\n)((?:\w+: .*\n)+)/, (_m, head: string, ids: string) => head + ids.split('\n').filter(Boolean).sort().join('\n') + '\n');
  return { events, output: output.trimEnd() };
}
