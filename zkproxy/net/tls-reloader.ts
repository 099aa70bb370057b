/**
 * `TlsReloader`: picks up renewed certificates without a restart. Short-lived certificates
 * (cert-manager, Vault, a Kubernetes secret mounted as files) are rewritten in place before
 * they expire; a sidecar that kept the old ones would start refusing every client at expiry.
 *
 * Every interval the reloader stats the certificate, key, CA and CRL files (following symlinks,
 * so a secret volume's atomic symlink swap counts as a change). When any of them changed it
 * reads them all and hands them over only if they make a working TLS context: a certificate
 * written before its key, a truncated file or a key that does not match keeps the previous
 * files in service, with a warning, until the files change again. Connections already open
 * keep the TLS session they made; new handshakes use the new files.
 */
import { stat } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { ZkLogger } from '../logger';
import { ZkTlsFlags, ZkTlsOptions, loadTlsOptions, tlsServerOptions } from './tls-port';

/** Watches the TLS files of `flags` and calls `apply` with each good new set. */
export class TlsReloader {
  private timer: NodeJS.Timeout | undefined;
  /** The files' identity when last read (good or bad): a change is a difference from it. */
  private seen = '';
  private checking = false;

  constructor(
    private readonly flags: ZkTlsFlags,
    private readonly intervalMs: number,
    private readonly apply: (o: ZkTlsOptions) => void,
    private readonly logger: ZkLogger,
  ) {}

  /**
   * Starts watching. `inService` is what the server was started with: files rewritten since it
   * was read (a start can take a while) are taken up at once.
   */
  async start(inService: ZkTlsOptions): Promise<void> {
    this.seen = await this.fingerprint();
    if (!this.sameFiles(inService)) this.reload();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    // Certificates never keep the process alive.
    this.timer.unref();
  }

  /** Stops watching. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check: reload when the files changed since the last read. Never throws. */
  async check(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      const now = await this.fingerprint();
      if (now === this.seen) return;
      this.seen = now;
      this.reload();
    } finally {
      this.checking = false;
    }
  }

  /** Reads the files and applies them if they make a working TLS context. */
  private reload(): void {
    const files = this.files();
    let next: ZkTlsOptions;
    try {
      next = loadTlsOptions(this.flags);
      // The context the TLS server would build: throws for a key that does not match, bad PEM...
      createSecureContext(tlsServerOptions(next, 0));
    } catch (e) {
      this.logger.warn({ files, reason: (e as Error).message }, 'cannot reload the ZooKeeper TLS files; still serving the ones loaded before (fix the files: they are read again when they change)');
      return;
    }
    this.apply(next);
    this.logger.info({ files }, 'reloaded the ZooKeeper TLS files; new connections use them');
  }

  /** Whether the files still hold what `o` was read from (unreadable counts as different). */
  private sameFiles(o: ZkTlsOptions): boolean {
    try {
      const now = loadTlsOptions(this.flags);
      return [[now.cert, o.cert], [now.key, o.key], [now.ca, o.ca], [now.crl, o.crl]].every(([a, b]) => (a === undefined ? b === undefined : b !== undefined && a.equals(b)));
    } catch {
      return false;
    }
  }

  private files(): string[] {
    const f = this.flags;
    return [f.certFile, f.keyFile, f.trustedCaFile, f.crlFile].filter((x): x is string => !!x);
  }

  /** Size, modification time and inode of every file ('-' for one that cannot be read now). */
  private async fingerprint(): Promise<string> {
    const parts = await Promise.all(
      this.files().map(async (file) => {
        try {
          const s = await stat(file);
          return `${s.ino}:${s.size}:${s.mtimeMs}`;
        } catch {
          return '-';
        }
      }),
    );
    return parts.join('|');
  }
}
