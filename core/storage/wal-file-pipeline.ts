/**
 * Keeps one preallocated segment file ready in the background (etcd's `filePipeline`), so a
 * segment cut costs a header write and a rename instead of zero-filling 64 MiB on the append
 * path. The file lives under a `.tmp` name until the WAL takes it and renames it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createPreallocated, WalPreallocation } from './wal-segment';

/** A preallocated, synced, empty file. */
export interface ReadyFile {
  file: string;
  fd: number;
  size: number;
}

/** The background preallocator. */
export class WalFilePipeline {
  private ready: ReadyFile | undefined;
  private pending: Promise<void> | undefined;
  private counter = 0;
  private closed = false;

  constructor(
    private readonly dir: string,
    private readonly size: number,
    private readonly mode: WalPreallocation,
  ) {}

  /** Starts preparing a file unless one is ready or being prepared. */
  start(): void {
    if (this.closed || this.ready || this.pending) return;
    const file = path.join(this.dir, `prealloc-${process.pid}-${this.counter++}.tmp`);
    this.pending = createPreallocated(file, this.size, this.mode).then(
      (fd) => {
        this.pending = undefined;
        if (this.closed) {
          fs.closeSync(fd);
          fs.rmSync(file, { force: true });
          return;
        }
        this.ready = { file, fd, size: this.size };
      },
      () => {
        // A failed preparation is not fatal: the next cut creates its file synchronously and
        // reports the error there if the disk is really failing.
        this.pending = undefined;
        fs.rmSync(file, { force: true });
      },
    );
  }

  /**
   * Hands over the ready file if there is one of at least `minSize` bytes (the caller owns its fd
   * and must rename or delete it), and starts preparing the next. Undefined when none is ready:
   * the caller creates one synchronously.
   */
  take(minSize: number): ReadyFile | undefined {
    const r = this.ready;
    if (!r || r.size < minSize) {
      this.start();
      return undefined;
    }
    this.ready = undefined;
    this.start();
    return r;
  }

  /** Whether a file is ready now (tests, bench). */
  get hasReadyFile(): boolean {
    return this.ready !== undefined;
  }

  /** Resolves when no preparation is in progress (tests). */
  async settled(): Promise<void> {
    await this.pending;
  }

  /** Stops preparing and deletes the unused file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pending;
    if (this.ready) {
      fs.closeSync(this.ready.fd);
      fs.rmSync(this.ready.file, { force: true });
      this.ready = undefined;
    }
  }
}
