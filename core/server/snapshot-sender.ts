/**
 * The leader's side of a Raft snapshot transfer (etcd: rafthttp's snapshot sender, a merged
 * snapshot = Raft metadata + the whole backend database).
 *
 * When Raft asks for a MsgSnap to a follower that needs entries the log no longer has, the
 * sender makes a consistent copy of the applied state (`Backend.copyTo`, after the write buffer
 * flushed: the copy holds some applied index ≥ Raft's snapshot index), reads the Raft metadata
 * from the copy itself (snapshot-db.ts) and streams it to the follower on a connection of its
 * own (snapshot-stream.ts): heartbeats and appends keep flowing on the regular link. The file is
 * read in chunks, each written only when the stream has room (bounded memory for any size).
 *
 * The outcome goes back to Raft (`reportSnapshot`): finish once the follower has the file
 * verified and durable, failure on any error or after {@link SNAPSHOT_IDLE_TIMEOUT_MS} without
 * progress. At most one transfer per follower is in flight; a MsgSnap for a follower with one
 * in flight is dropped (Raft waits for the report of the first in any case).
 *
 * A failure is reported only after a backoff per follower ({@link SNAPSHOT_RETRY_MIN_MS},
 * doubling to {@link SNAPSHOT_RETRY_MAX_MS}, reset by a success): Raft asks again as soon as it
 * hears of the failure, and each attempt copies the whole database, so a follower that refuses
 * (busy with another leader's stalled transfer, or unreachable) would otherwise cost a full copy
 * several times a second.
 */
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { Backend } from '../storage/backend';
import { Logger } from '../util/logger';
import { Message } from '../raft/types';
import { SnapshotStatus } from '../raft/raw-node';
import { readSnapshotDb } from './snapshot-db';
import { encodeSnapshotHeader, SnapshotHeader } from './snapshot-stream';

/** A transfer with no progress for this long is abandoned (and reported failed). */
export const SNAPSHOT_IDLE_TIMEOUT_MS = 30_000;

/** The first pause before a failed transfer is reported (and so retried by Raft). */
export const SNAPSHOT_RETRY_MIN_MS = 1_000;
/** The longest such pause. */
export const SNAPSHOT_RETRY_MAX_MS = 4_000;

/** Bytes read from the database file per chunk. */
const CHUNK_BYTES = 1024 * 1024;

/** Options of {@link SnapshotSender}. */
export interface SnapshotSenderOptions {
  /** Directory for the temporary copies (the member's `snap/`). */
  dir: string;
  localId: bigint;
  clusterId: bigint;
  /** The applied state to copy. */
  backend: Backend;
  /** The peer URLs of member `id` (undefined when unknown). */
  urlsOf(id: bigint): string[] | undefined;
  /** Tells Raft how a transfer ended. */
  report(id: bigint, status: SnapshotStatus): void;
  logger: Logger;
  /** Backoff bounds after a failure (defaults: {@link SNAPSHOT_RETRY_MIN_MS}, {@link SNAPSHOT_RETRY_MAX_MS}). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** Sends snapshots to followers, one at a time per follower. */
export class SnapshotSender {
  private readonly inFlight = new Set<bigint>();
  /** Consecutive failures per follower (cleared by a success). */
  private readonly failures = new Map<bigint, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private sentCount = 0;
  private failedCount = 0;
  private closed = false;

  constructor(private readonly o: SnapshotSenderOptions) {}

  /** Transfers completed (the follower has the file). */
  get sent(): number {
    return this.sentCount;
  }

  /** Transfers that failed. */
  get failed(): number {
    return this.failedCount;
  }

  /** Starts a transfer for a MsgSnap (its snapshot carries only Raft's metadata). */
  send(m: Message): void {
    if (this.closed || this.inFlight.has(m.to)) return;
    this.inFlight.add(m.to);
    this.transfer(m).then(
      (h) => {
        this.sentCount++;
        this.failures.delete(m.to);
        this.o.logger.info({ to: m.to.toString(16), index: h.index, term: h.term, bytes: h.size }, 'sent raft snapshot');
        this.inFlight.delete(m.to);
        this.o.report(m.to, 'finish');
      },
      (err: unknown) => {
        this.failedCount++;
        const n = (this.failures.get(m.to) ?? 0) + 1;
        this.failures.set(m.to, n);
        const min = this.o.retryMinMs ?? SNAPSHOT_RETRY_MIN_MS;
        const pause = Math.min(min * 2 ** (n - 1), this.o.retryMaxMs ?? SNAPSHOT_RETRY_MAX_MS);
        this.o.logger.warn({ err, to: m.to.toString(16), retryInMs: pause }, 'sending raft snapshot failed');
        // Still "in flight" during the pause: a MsgSnap meanwhile is dropped, not a new copy.
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.inFlight.delete(m.to);
          this.o.report(m.to, 'failure');
        }, pause);
        this.timers.add(timer);
      },
    );
  }

  /** No new transfers (those in flight end on their own; pending failure reports are dropped). */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async transfer(m: Message): Promise<SnapshotHeader> {
    const urls = this.o.urlsOf(m.to);
    if (!urls || urls.length === 0) throw new Error(`no peer URL for member ${m.to.toString(16)}`);
    fs.mkdirSync(this.o.dir, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(this.o.dir, 'send-'));
    try {
      const file = path.join(tmp, 'data.mdb');
      await this.o.backend.copyTo(file);
      const meta = await readSnapshotDb(tmp);
      if (!meta.confState) throw new Error('the applied state has no conf state; cannot snapshot it');
      const header: SnapshotHeader = {
        from: this.o.localId,
        to: m.to,
        cluster: this.o.clusterId,
        msgTerm: m.term,
        index: meta.index,
        term: meta.term,
        confState: meta.confState,
        size: fs.statSync(file).size,
      };
      await postSnapshot(urls[0]!, header, file);
      return header;
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
}

/** Streams `file` with `header` to the peer at `url` and resolves when it answered 200. */
export function postSnapshot(url: string, header: SnapshotHeader, file: string, idleMs = SNAPSHOT_IDLE_TIMEOUT_MS): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const session = http2.connect(url);
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      session.destroy();
      if (err) reject(err);
      else resolve();
    };
    session.on('error', (err) => finish(err));
    session.setTimeout(idleMs, () => finish(new Error(`snapshot transfer to ${url} made no progress for ${idleMs} ms`)));
    const req = session.request({ ':method': 'POST', ':path': '/raft/snapshot', 'content-type': 'application/octet-stream' });
    req.on('error', (err) => finish(err));
    let status = 0;
    const answer: Buffer[] = [];
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (c: Buffer) => answer.push(c));
    req.on('end', () => {
      if (status === 200) return finish();
      finish(new Error(`peer refused the snapshot (status ${status}): ${Buffer.concat(answer).toString('utf8').slice(0, 200)}`));
    });
    req.on('close', () => finish(new Error('snapshot stream closed before an answer')));
    writeBody(req, header, file).catch((err: Error) => finish(err));
  });
}

/** Writes header, file chunks (waiting for room after each) and the checksum, then ends. */
async function writeBody(req: http2.ClientHttp2Stream, header: SnapshotHeader, file: string): Promise<void> {
  const hash = createHash('sha256');
  await writeChunk(req, encodeSnapshotHeader(header));
  let written = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
    const buf = chunk as Buffer;
    hash.update(buf);
    written += buf.length;
    await writeChunk(req, buf);
  }
  if (written !== header.size) throw new Error(`snapshot file changed size while sending (${written} != ${header.size})`);
  req.end(hash.digest());
}

/** Writes one chunk; resolves once the stream can take more (or rejects if it closed). */
function writeChunk(req: http2.ClientHttp2Stream, buf: Buffer): Promise<void> {
  if (req.destroyed || req.closed) return Promise.reject(new Error('snapshot stream closed'));
  if (req.write(buf)) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      req.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      req.off('drain', onDrain);
      reject(new Error('snapshot stream closed'));
    };
    req.once('drain', onDrain);
    req.once('close', onClose);
  });
}
