/**
 * The follower's side of a Raft snapshot transfer (`POST /raft/snapshot`, snapshot-stream.ts).
 *
 * The body is written to a temporary directory in the member's `snap/` as it arrives (the
 * stream is paused while the file write catches up: bounded memory), then checked: exact size,
 * sha256 trailer, the database's own consistent index equal to the header's, same cluster. The
 * file is made this member's (its member id, snapshot-db.ts), fsynced, and the directory renamed
 * to `snap/<index as 16 hex digits>/` and the parent fsynced: from then on it can be installed,
 * also by a restart (snapshot-installer.ts describes the crash rules). Only then does the leader
 * get its 200 and Raft the MsgSnap (through `deliver`), which decides whether to adopt it.
 *
 * One transfer at a time: a second one is refused with 409 (the leader reports failure and Raft
 * retries later). So a transfer whose sender stops sending must not hold the receiver: after
 * {@link SNAPSHOT_RECEIVE_IDLE_MS} without a byte it is given up. Without that, a leader frozen
 * or cut off mid-transfer (its FIN never arrives) kept the stream open, and every transfer of
 * the next leader was refused: the lagging member never caught up, and a cluster that needed
 * it for a quorum took no writes (test/fault/cluster-snapshot-kill.test.ts). And a new transfer
 * that arrives while the current one has been silent for {@link SNAPSHOT_PREEMPT_SILENCE_MS}
 * takes its place at once: only a leader sends snapshots, so a new sender means a new leader,
 * and a silent old stream is most likely from the leader it replaced.
 */
import * as fs from 'node:fs';
import * as http2 from 'node:http2';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { Logger } from '../util/logger';
import { syncDir } from '../storage/sync-dir';
import { adoptSnapshotDb, readSnapshotDb } from './snapshot-db';
import { decodeSnapshotHeader, MAX_SNAPSHOT_HEADER_BYTES, SNAPSHOT_TRAILER_BYTES, SnapshotHeader } from './snapshot-stream';

/** Options of {@link SnapshotReceiver}. */
export interface SnapshotReceiverOptions {
  /** The member's `snap/` directory. */
  dir: string;
  localId: bigint;
  clusterId: bigint;
  /** A verified, durable snapshot is in `snap/<index>/`: hand it to Raft. */
  deliver(header: SnapshotHeader): void;
  logger: Logger;
  /** Give up a transfer after this long without a byte (default {@link SNAPSHOT_RECEIVE_IDLE_MS}). */
  idleTimeoutMs?: number;
  /** Let a new transfer replace one silent this long (default {@link SNAPSHOT_PREEMPT_SILENCE_MS}). */
  preemptAfterMs?: number;
}

/** A transfer silent this long gives way to a new one (a live sender never pauses this long). */
export const SNAPSHOT_PREEMPT_SILENCE_MS = 1_000;

/**
 * A transfer whose sender sent nothing for this long is abandoned. The sender copies the
 * database before it opens the stream, so from then on bytes flow without pause but for our own
 * writes (the clock does not run while we write): a silence this long means the sender is gone.
 * (etcd's peer listener closes a connection after a 5 s read stall, rafthttp ConnReadTimeout.)
 */
export const SNAPSHOT_RECEIVE_IDLE_MS = 10_000;

/** The name of the directory holding a received snapshot at `index`. */
export function snapshotDirName(index: number): string {
  return index.toString(16).padStart(16, '0');
}

/** Receives snapshots, one at a time. */
export class SnapshotReceiver {
  private busy = false;
  private receivedCount = 0;
  /** The transfer in progress: its stream, and since when it has been waiting for bytes. */
  private current: { stream: http2.ServerHttp2Stream; waitingSince: number | undefined } | undefined;
  /** A transfer queued behind a silent one being given up (at most one). */
  private next: http2.ServerHttp2Stream | undefined;

  constructor(private readonly o: SnapshotReceiverOptions) {}

  /** Snapshots received and handed to Raft. */
  get received(): number {
    return this.receivedCount;
  }

  /** Handles one `POST /raft/snapshot` stream and answers it. */
  handle(stream: http2.ServerHttp2Stream): void {
    if (this.busy) return this.preemptOrRefuse(stream);
    this.busy = true;
    this.current = { stream, waitingSince: undefined };
    this.receive(stream).then(
      (header) => {
        this.receivedCount++;
        this.o.logger.info({ from: header.from.toString(16), index: header.index, term: header.term, bytes: header.size }, 'received raft snapshot');
        answer(stream, 200, 'ok');
        this.o.deliver(header);
      },
      (err: unknown) => {
        this.o.logger.warn({ err }, 'receiving raft snapshot failed');
        answer(stream, 400, (err as Error).message ?? String(err));
      },
    ).finally(() => {
      this.busy = false;
      this.current = undefined;
      const next = this.next;
      this.next = undefined;
      if (next && !next.destroyed) this.handle(next);
    });
  }

  /** A transfer arriving while one runs: it replaces a silent one, else it is refused with 409. */
  private preemptOrRefuse(stream: http2.ServerHttp2Stream): void {
    const c = this.current;
    const silence = this.o.preemptAfterMs ?? SNAPSHOT_PREEMPT_SILENCE_MS;
    if (!c || this.next || c.waitingSince === undefined || Date.now() - c.waitingSince < silence) {
      return answer(stream, 409, 'a snapshot transfer is already in progress');
    }
    this.o.logger.warn({ silentMs: Date.now() - c.waitingSince }, 'a new snapshot transfer replaces a silent one');
    this.next = stream;
    c.stream.destroy(new Error('superseded by a newer snapshot transfer'));
  }

  private async receive(stream: http2.ServerHttp2Stream): Promise<SnapshotHeader> {
    fs.mkdirSync(this.o.dir, { recursive: true });
    const tmp = fs.mkdtempSync(path.join(this.o.dir, 'recv-'));
    try {
      const header = await this.writeBody(stream, path.join(tmp, 'data.mdb'));
      const meta = await readSnapshotDb(tmp);
      if (meta.index !== header.index || meta.term !== header.term) throw new Error(`snapshot file holds index ${meta.index} term ${meta.term}, header says ${header.index}/${header.term}`);
      if (meta.clusterId !== undefined && meta.clusterId !== this.o.clusterId) throw new Error(`snapshot of cluster ${meta.clusterId.toString(16)}, this is ${this.o.clusterId.toString(16)}`);
      await adoptSnapshotDb(tmp, this.o.localId);
      fs.rmSync(path.join(tmp, 'lock.mdb'), { force: true });
      const final = path.join(this.o.dir, snapshotDirName(header.index));
      fs.rmSync(final, { recursive: true, force: true });
      fs.renameSync(tmp, final);
      syncDir(this.o.dir);
      return header;
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /** Parses the stream into `file`; resolves with the checked header once size and checksum match. */
  private async writeBody(stream: http2.ServerHttp2Stream, file: string): Promise<SnapshotHeader> {
    const out = fs.openSync(file, 'w');
    const idleMs = this.o.idleTimeoutMs ?? SNAPSHOT_RECEIVE_IDLE_MS;
    let idle: NodeJS.Timeout | undefined;
    // Armed only while waiting for the next chunk; destroying the stream ends the loop below.
    const arm = (): void => {
      if (this.current?.stream === stream) this.current.waitingSince = Date.now();
      idle = setTimeout(() => stream.destroy(new Error(`snapshot stream idle for ${idleMs} ms: the sender stopped sending`)), idleMs);
    };
    try {
      const parser = new BodyParser(this.o);
      let failure: unknown;
      arm();
      for await (const chunk of stream) {
        clearTimeout(idle);
        if (this.current?.stream === stream) this.current.waitingSince = undefined;
        // After a bad part the rest is read and dropped: leaving the loop would reset the
        // stream, and the sender would never hear why.
        if (failure === undefined) {
          try {
            for (const piece of parser.push(chunk as Buffer)) await writeAll(out, piece);
          } catch (err) {
            failure = err;
          }
        }
        arm();
      }
      clearTimeout(idle);
      if (failure !== undefined) throw failure;
      const header = parser.finish();
      fs.fsyncSync(out);
      return header;
    } finally {
      clearTimeout(idle);
      fs.closeSync(out);
    }
  }
}

/** The body's state machine: header, then file bytes (hashed), then the trailer. */
class BodyParser {
  private head: Buffer[] = [];
  private headBytes = 0;
  private header: SnapshotHeader | undefined;
  private body = 0;
  private trailer: Buffer[] = [];
  private trailerBytes = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly o: { localId: bigint; clusterId: bigint }) {}

  /** Consumes a chunk; returns the parts of it that belong to the file. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let rest = chunk;
    if (!this.header) rest = this.takeHeader(rest);
    if (!this.header || rest.length === 0) return out;
    const want = this.header.size - this.body;
    const part = rest.subarray(0, want);
    if (part.length > 0) {
      this.hash.update(part);
      this.body += part.length;
      out.push(part);
    }
    rest = rest.subarray(part.length);
    if (rest.length > 0) {
      this.trailerBytes += rest.length;
      if (this.trailerBytes > SNAPSHOT_TRAILER_BYTES) throw new Error('snapshot stream longer than its header says');
      this.trailer.push(rest);
    }
    return out;
  }

  /** The stream ended: checks size and checksum. */
  finish(): SnapshotHeader {
    if (!this.header) throw new Error('snapshot stream ended inside its header');
    if (this.body !== this.header.size || this.trailerBytes !== SNAPSHOT_TRAILER_BYTES) throw new Error(`snapshot stream truncated (${this.body} of ${this.header.size} bytes)`);
    if (!this.hash.digest().equals(Buffer.concat(this.trailer))) throw new Error('snapshot checksum mismatch');
    return this.header;
  }

  private takeHeader(chunk: Buffer): Buffer {
    this.head.push(chunk);
    this.headBytes += chunk.length;
    if (this.headBytes < 4) return Buffer.alloc(0);
    const all = Buffer.concat(this.head);
    this.head = [all];
    const len = all.readUInt32BE(0);
    if (len > MAX_SNAPSHOT_HEADER_BYTES) throw new Error(`snapshot header of ${len} bytes exceeds ${MAX_SNAPSHOT_HEADER_BYTES}`);
    if (all.length < 4 + len) return Buffer.alloc(0);
    const h = decodeSnapshotHeader(all.subarray(4, 4 + len));
    if (h.cluster !== this.o.clusterId) throw new Error(`snapshot for cluster ${h.cluster.toString(16)}, this is ${this.o.clusterId.toString(16)}`);
    if (h.to !== this.o.localId) throw new Error(`snapshot for member ${h.to.toString(16)}, this is ${this.o.localId.toString(16)}`);
    this.header = h;
    this.head = [];
    return all.subarray(4 + len);
  }
}

async function writeAll(fd: number, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await new Promise<{ bytesWritten: number }>((resolve, reject) =>
      fs.write(fd, buf, off, buf.length - off, null, (err, n) => (err ? reject(err) : resolve({ bytesWritten: n }))),
    );
    off += bytesWritten;
  }
}

function answer(stream: http2.ServerHttp2Stream, status: number, text: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({ ':status': status, 'content-type': 'text/plain' });
  stream.end(text);
}
