/**
 * Child process of wal-kill9.test.ts: opens the WAL in argv[2], prints `start <lastIndex>`, then
 * appends numbered entries from several concurrent appenders and prints `ack <index>` after each
 * append resolved (stdout to a pipe is synchronous on Linux, so a printed ack was resolved).
 * Bounded: stops after MAX_APPENDS appends or MAX_MS, whichever first; the test kills it sooner.
 */
import { Wal } from '../../core/storage/wal';
import { EntryType } from '../../core/raft/types';

const APPENDERS = 8;
const MAX_APPENDS = 200_000;
const MAX_MS = 20_000;

/** The data of entry `index`: its number, padded, so the test can check the content. */
export function payloadOf(index: number): Uint8Array {
  return new Uint8Array(Buffer.from(`entry-${index}-`.padEnd(120, 'x')));
}

async function main(): Promise<void> {
  const dir = process.argv[2]!;
  const { wal, replay } = await Wal.open(dir, { segmentBytes: 256 * 1024 });
  process.stdout.write(`start ${replay.lastIndex}\n`);
  let next = replay.lastIndex;
  const deadline = Date.now() + MAX_MS;
  const appender = async () => {
    while (next < replay.lastIndex + MAX_APPENDS && Date.now() < deadline) {
      const index = ++next;
      await wal.append({ entries: [{ index, term: 1, type: EntryType.Normal, data: payloadOf(index) }], hardState: { term: 1, vote: 0n, commit: index } });
      process.stdout.write(`ack ${index}\n`);
    }
  };
  await Promise.all(Array.from({ length: APPENDERS }, appender));
  await wal.close();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}
