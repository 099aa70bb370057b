/**
 * `ContainerReaper`: ZooKeeper's ContainerManager (zk-protocol.md §2.5). Every interval it
 * deletes containers that once had a child and now have none (persisted cversion > 0), and TTL
 * nodes with no children whose mtime is older than their TTL. Each deletion is a guarded write,
 * so several proxies reaping the same tree are harmless. Bounded per pass (maxPerMinute).
 */
import { ZkErr } from '../../protocol/jute';
import { fail } from '../errors/zk-error';
import { parentOf } from '../mapping/path-rules';
import { createCount } from '../mapping/znode-view';
import { ZkServices } from './services';

/** Deletions per pass at most (znode.container.maxPerMinute default). */
const MAX_PER_PASS = 10_000;

/** The periodic reaper. */
export class ContainerReaper {
  private readonly timer: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly s: ZkServices,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.pass(), intervalMs);
    this.timer.unref();
  }

  /** The paths due for deletion now. */
  candidates(now = Date.now()): string[] {
    const out: string[] = [];
    for (const path of this.s.tree.reapablePaths()) {
      const v = this.s.tree.view(path);
      if (!v || v.children.size > 0) continue;
      if (v.kind === 'container' && createCount(v) > 0) out.push(path);
      else if (v.kind === 'ttl' && BigInt(now) - v.mtime > v.ttl) out.push(path);
      if (out.length >= MAX_PER_PASS) break;
    }
    return out;
  }

  /** One reaping pass (also callable from tests). */
  async pass(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let n = 0;
    try {
      for (const path of this.candidates()) {
        const out = await this.s.runner.run((p) => {
          const v = p.get(path);
          p.guard(path, 'node', 'children');
          p.guard(parentOf(path), 'exists');
          if (!v || v.children.size > 0) fail(ZkErr.NOTEMPTY);
          p.remove(path);
        }, { recordFailure: false }).catch(() => undefined);
        if (out && !out.error) n++;
      }
    } finally {
      this.running = false;
    }
    return n;
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.timer);
  }
}
