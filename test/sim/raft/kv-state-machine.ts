/**
 * The simulated members' key-value state machine: puts applied from committed entries, one
 * revision per applied put (as etcd's MVCC: revision 1 is the first write), the full history of
 * changes kept for watchers (no compaction), and a per-client session table that applies each
 * client request at most once (Raft thesis §6.3: the network may duplicate a forwarded proposal,
 * so the log may hold it twice; a client's serial numbers make the second copy a no-op).
 *
 * Deterministic: the state after applying a log prefix depends only on that prefix, so every
 * member holds the same revisions, which the watch checker relies on.
 */

/** A client request carried in a log entry. */
export interface KvPut {
  client: number;
  /** The client's serial number: increasing per client across all its requests. */
  seq: number;
  key: string;
  value: string;
}

/** One change, as a watcher sees it. */
export interface KvEvent {
  revision: number;
  key: string;
  value: string;
}

const PREFIX = 'put ';
const PREFIX_BYTES = new TextEncoder().encode(PREFIX);
/** Keys and values are single tokens so that the text encodings below need no escaping. */
const TOKEN = /^[A-Za-z0-9_.:-]+$/;

/** Encodes a put as entry data (`put <client> <seq> <key> <value>`). */
export function encodePut(p: KvPut): Uint8Array {
  if (!TOKEN.test(p.key) || !TOKEN.test(p.value)) throw new RangeError(`bad key or value: ${p.key} ${p.value}`);
  return new TextEncoder().encode(`${PREFIX}${p.client} ${p.seq} ${p.key} ${p.value}`);
}

/** Decodes entry data written by {@link encodePut}; undefined for any other entry. */
export function decodePut(data: Uint8Array): KvPut | undefined {
  if (data.length < PREFIX_BYTES.length) return undefined;
  for (let i = 0; i < PREFIX_BYTES.length; i++) if (data[i] !== PREFIX_BYTES[i]) return undefined;
  const [client, seq, key, value] = new TextDecoder().decode(data.subarray(PREFIX_BYTES.length)).split(' ');
  return { client: Number(client), seq: Number(seq), key: key!, value: value! };
}

/** What applying one entry did. */
export type KvApplyResult =
  /** A put took effect at a new revision. */
  | { kind: 'applied'; put: KvPut; event: KvEvent }
  /** A put whose serial number this client had already used: ignored. */
  | { kind: 'duplicate'; put: KvPut }
  /** Not a KV entry (empty, conf change, background noise). */
  | { kind: 'other' };

/** The state machine of one member. */
export class KvStateMachine {
  private data = new Map<string, string>();
  /** events[i] has revision i + 1. */
  private events: KvEvent[] = [];
  /** client → highest serial number applied. */
  private sessions = new Map<number, number>();
  /** The history in snapshot form, kept incrementally (snapshots are frequent, history is long). */
  private historyText = '';

  /** The revision of the last change (0 before the first). */
  get revision(): number {
    return this.events.length;
  }

  get(key: string): string | undefined {
    return this.data.get(key);
  }

  /** The change at `revision` (1-based), if it happened here. */
  event(revision: number): KvEvent | undefined {
    return this.events[revision - 1];
  }

  /** Applies one committed entry's data. */
  apply(entryData: Uint8Array): KvApplyResult {
    const put = decodePut(entryData);
    if (put === undefined) return { kind: 'other' };
    if ((this.sessions.get(put.client) ?? -1) >= put.seq) return { kind: 'duplicate', put };
    this.sessions.set(put.client, put.seq);
    const event = { revision: this.events.length + 1, key: put.key, value: put.value };
    this.record(event);
    return { kind: 'applied', put, event };
  }

  private record(e: KvEvent): void {
    this.events.push(e);
    this.data.set(e.key, e.value);
    this.historyText += `${e.key} ${e.value}\n`;
  }

  /**
   * The state as snapshot bytes: a line of sessions (`client:seq` pairs), then one line per
   * revision in order. Restoring replays the history, so the data map cannot disagree with it.
   */
  encode(): Uint8Array {
    const sessions = [...this.sessions].map(([c, s]) => `${c}:${s}`).join(',');
    return new TextEncoder().encode(`${sessions}\n${this.historyText}`);
  }

  /** Replaces the whole state with a snapshot made by {@link encode}. */
  restore(bytes: Uint8Array): void {
    const lines = new TextDecoder().decode(bytes).split('\n');
    this.data = new Map();
    this.events = [];
    this.sessions = new Map();
    this.historyText = '';
    for (const pair of lines[0]!.split(',')) {
      if (pair === '') continue;
      const [c, s] = pair.split(':');
      this.sessions.set(Number(c), Number(s));
    }
    for (let i = 1; i < lines.length; i++) {
      if (lines[i] === '') continue;
      const [key, value] = lines[i]!.split(' ');
      this.record({ revision: this.events.length + 1, key: key!, value: value! });
    }
  }
}
