/** One number from a ZooKeeper-protocol server's `mntr` (zk-memory, zk-watch). */
import { fourLetterWord } from '../../test/support/zookeeper-peer';

/** The value of mntr's `key` line (e.g. `zk_znode_count`) on 127.0.0.1:`port`; NaN when absent. */
export async function mntrNumber(port: number, key: string): Promise<number> {
  const text = await fourLetterWord('127.0.0.1', port, 'mntr');
  const line = text.split('\n').find((l) => l.startsWith(`${key}\t`));
  return line === undefined ? NaN : Number(line.slice(key.length + 1));
}
