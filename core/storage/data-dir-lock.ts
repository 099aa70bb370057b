/**
 * One process per data directory. Two members on one data dir would both append to its WAL and
 * both write its LMDB file: acknowledged writes lost, files corrupted. etcd holds an flock on
 * its WAL for this; Node has no flock, so the lock is a Unix socket bound inside the directory.
 * The kernel drops the binding when its process dies (kill -9 included): a socket file nobody
 * answers on is stale and is replaced, so a crash never leaves a lock to remove by hand. The
 * holder answers a connection with its pid, which the refusal names.
 *
 * A path too long for a socket address (about 100 bytes) binds in Linux's abstract namespace
 * instead, named after the directory's real path: same guarantee for processes that share a
 * network namespace. Two processes that find one stale file at the same instant may both take
 * over; starting members one at a time (as a supervisor does) avoids that window.
 */
import { createHash } from 'node:crypto';
import { realpathSync, unlinkSync } from 'node:fs';
import { Server, Socket, createConnection, createServer } from 'node:net';
import path from 'node:path';

/** The socket file's name inside the data dir. */
export const LOCK_FILE = 'coracle.lock';

/** Longest socket path bound as a file (sun_path is 108 bytes on Linux, 104 on macOS). */
const MAX_SOCKET_PATH = 100;

/** How long a holder has to say its pid before the refusal goes without it. */
const PID_WAIT_MS = 1000;

/** Thrown when another live process holds the data dir. */
export class DataDirInUseError extends Error {
  constructor(dir: string, readonly pid: number | undefined) {
    super(`data dir ${dir} is in use by another process${pid ? ` (pid ${pid})` : ''}: stop it first, or give this member another data dir`);
  }
}

/** A held data-dir lock; {@link release} it when the member stops. */
export class DataDirLock {
  private constructor(private readonly server: Server, private readonly file: string | undefined) {}

  /**
   * Takes the lock of `dir` (which must exist). Rejects with {@link DataDirInUseError} when a
   * live process holds it; replaces a stale one left by a process that died.
   */
  static async acquire(dir: string): Promise<DataDirLock> {
    const file = path.join(dir, LOCK_FILE);
    const inFile = Buffer.byteLength(file) <= MAX_SOCKET_PATH;
    const address = inFile ? file : `\0coracle-data-dir-${createHash('sha256').update(realpathSync(dir)).digest('hex').slice(0, 40)}`;
    let server = await bind(address);
    // An abstract name dies with its process; only a socket file can be left behind, stale.
    if (!server && inFile && (await holderPid(file)) === null) {
      unlinkSync(file);
      server = await bind(file);
    }
    if (!server) throw new DataDirInUseError(dir, (await holderPid(address)) ?? undefined);
    return new DataDirLock(server, inFile ? file : undefined);
  }

  /** Gives the data dir up: stops answering and removes the socket file. */
  async release(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (!this.file) return;
    try {
      unlinkSync(this.file);
    } catch {
      // Already gone (Node may unlink it on close).
    }
  }
}

/** Listens on `address`; undefined when it is taken (EADDRINUSE), other errors reject. */
function bind(address: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.end(String(process.pid)));
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(undefined) : reject(e)));
    server.listen(address, () => {
      // The lock must not keep the process alive on its own.
      server.unref();
      resolve(server);
    });
  });
}

/**
 * The pid of the process answering on `address`: a number, undefined when it answered
 * without one in time, null when nobody listens (a stale socket file).
 */
function holderPid(address: string): Promise<number | undefined | null> {
  return new Promise((resolve) => {
    let text = '';
    const socket: Socket = createConnection(address);
    const timer = setTimeout(() => finish(undefined), PID_WAIT_MS);
    const finish = (v: number | undefined | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => finish(/^\d+$/.test(text) ? Number(text) : undefined));
    socket.on('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ECONNREFUSED' || e.code === 'ENOENT' ? null : undefined));
  });
}
