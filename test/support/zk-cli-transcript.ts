/**
 * Comparing zkCli.sh transcripts of two servers (ZooKeeper 3.8 and Coracle) typed the same
 * commands: what each server picks for itself is normalized (session ids, times, the port; zxids
 * replaced by their rank, so their order and equalities must match), and watch notifications,
 * printed by zkCli's event thread wherever timing puts them, are split out as their own list.
 */
import assert from 'node:assert/strict';
import { zkCli } from './zk-cli';

/** A normalized transcript: the command output lines and the watch events, in order. */
export interface CliTranscript {
  lines: string[];
  events: string[];
}

const EVENT = /^WatchedEvent state:\w+ type:(\w+) path:(\S+)$/;

/** Ranks of the zxids printed in a transcript: 0x0 stays 0, the others by numeric order. */
function zxidRanks(out: string): Map<string, number> {
  const seen = new Set<bigint>([0n]);
  for (const m of out.matchAll(/^[cmp]Zxid = (0x[0-9a-f]+)$/gm)) seen.add(BigInt(m[1]!));
  const sorted = [...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return new Map(sorted.map((z, i) => [`0x${z.toString(16)}`, i]));
}

/** One normalized line, or undefined for a line of no meaning (blank, `WATCHER::`). */
function normalizeLine(line: string, ranks: Map<string, number>): string | undefined {
  if (line.trim() === '' || line === 'WATCHER::') return undefined;
  const zxid = /^([cmp]Zxid) = (0x[0-9a-f]+)$/.exec(line);
  if (zxid) return `${zxid[1]} = z${ranks.get(zxid[2]!)}`;
  // getEphemerals prints a Java HashSet: its order is the server's hashing, not a contract.
  if (/^\[\/.*\]$/.test(line)) return `[${line.slice(1, -1).split(', ').sort().join(', ')}]`;
  return line
    .replace(/^Connecting to .*/, 'Connecting to SERVER')
    .replace(/^([cm]time) = (?!Thu Jan 01 00:00:00 UTC 1970).*/, '$1 = TIME')
    .replace(/^ephemeralOwner = 0x(?!0$)[0-9a-f]+$/, 'ephemeralOwner = SESSION');
}

/** `out` (zkCli stdout with stderr merged) split into command output and watch events, both normalized. */
export function cliTranscript(out: string): CliTranscript {
  const ranks = zxidRanks(out);
  const lines: string[] = [];
  const events: string[] = [];
  for (const raw of out.split('\n')) {
    if (EVENT.test(raw)) {
      if (!raw.includes('type:None')) events.push(raw);
      continue;
    }
    const l = normalizeLine(raw, ranks);
    if (l !== undefined) lines.push(l);
  }
  return { lines, events };
}

/** Asserts `got` (Coracle's) equals `want` (ZooKeeper's) line by line, then event by event. */
export function sameTranscript(got: CliTranscript, want: CliTranscript): void {
  for (let i = 0; i < Math.max(want.lines.length, got.lines.length); i++) {
    const around = (t: CliTranscript): string => t.lines.slice(Math.max(0, i - 5), i + 3).join('\n');
    assert.equal(got.lines[i], want.lines[i], `line ${i + 1} differs; ZooKeeper:\n${around(want)}\nCoracle:\n${around(got)}`);
  }
  assert.deepEqual(got.events, want.events, 'the watch notifications, in order');
}

/**
 * Types `script` into one zkCli.sh session on each server at once (stderr merged) and returns
 * both transcripts, normalized; `raw` keeps ZooKeeper's output for assertion messages.
 */
export async function cliTranscripts(zookeeper: string, coracle: string, script: readonly string[]): Promise<{ want: CliTranscript; got: CliTranscript; raw: string }> {
  const [a, b] = await Promise.all([
    zkCli(zookeeper, script, { mergeStderr: true, timeoutMs: 60_000 }),
    zkCli(coracle, script, { mergeStderr: true, timeoutMs: 60_000 }),
  ]);
  return { want: cliTranscript(a.stdout), got: cliTranscript(b.stdout), raw: a.stdout };
}
