/**
 * A core member in this process with zkproxy's LocalBackend over it (what `coracle` serves its
 * ZooKeeper port from), for the tests that run the ZooKeeper front end over the real core: LMDB,
 * Raft, MVCC and leases, checking its own log entries.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MEMBER_DEFAULTS, Member } from '../../core/server/member';
import { nullLogger } from '../../core/util/logger';
import { LocalBackend } from '../../zkproxy/backend/local-backend';

/**
 * Starts a one-member core in a fresh directory, waits until it accepts proposals (bounded: about
 * 5 s), runs `fn` with a LocalBackend over it, then stops everything and removes the directory.
 */
export async function withLocalBackend(fn: (backend: LocalBackend) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-local-'));
  const member = await Member.start({ ...MEMBER_DEFAULTS, checkOwnEntries: true, name: 'zk-local', dataDir: path.join(dir, 'data'), logger: nullLogger });
  const backend = new LocalBackend(member);
  try {
    // A single member elects itself; wait until it accepts proposals.
    for (let i = 0; ; i++) {
      try {
        await backend.txn({ compare: [], success: [{ type: 'put', key: Buffer.from('/warmup'), value: Buffer.alloc(0) }], failure: [] });
        break;
      } catch (e) {
        if (i > 100) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await fn(backend);
  } finally {
    await backend.close();
    await member.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
