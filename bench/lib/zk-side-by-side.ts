/**
 * The frame of the benchmarks that measure Apache ZooKeeper 3.8 and `coracle` one after the
 * other with the same client (zk-memory, zk-restart): ZooKeeper first unless `--skip-zookeeper`,
 * with zkServer.sh's default heap; then `coracle` from `dist` with `--coracle-flags`. Each is
 * started fresh and stopped (its data removed) after its measurement.
 */
import { startZookeeper, type ZookeeperPeer } from '../../test/support/zookeeper-peer';
import { startBenchCoracle, type BenchCoracle } from '../coracle-server';
import type { BenchFlags } from './bench-flags';

/** What to measure on each server; `name` labels Coracle's row with its extra flags. */
export interface SideBySide<R> {
  zookeeper(zk: ZookeeperPeer): Promise<R>;
  coracle(c: BenchCoracle, name: string): Promise<R>;
  /**
   * Extra zoo.cfg lines the measurement needs (e.g. `{ maxClientCnxns: 0 }` for more than 60
   * sessions from 127.0.0.1); passed as {@link startZookeeper}'s `config`. Default none.
   */
  zookeeperConfig?: Record<string, string | number>;
  /**
   * Flags Coracle gets before `--coracle-flags` (which can override them, the last one given
   * wins), left out of the row's label: what the measurement itself needs, e.g.
   * `['--zk-max-client-cnxns', '0']`. Default none.
   */
  coracleArgs?: readonly string[];
}

/** Runs `measure` on ZooKeeper (unless skipped), then on Coracle; their results in that order. */
export async function zookeeperThenCoracle<R>(dist: string, flags: BenchFlags, measure: SideBySide<R>): Promise<R[]> {
  const rows: R[] = [];
  if (!flags.has('skip-zookeeper')) {
    const zk = await startZookeeper({ logLevel: 'warn', jvmArgs: ['-Xmx1000m'], config: measure.zookeeperConfig ?? {} });
    try {
      rows.push(await measure.zookeeper(zk));
    } finally {
      await zk.stop();
    }
  }
  const coracleFlags = flags.text('coracle-flags', '').split(' ').filter(Boolean);
  const c = await startBenchCoracle(dist, [...(measure.coracleArgs ?? []), ...coracleFlags]);
  if (!c) throw new Error('coracle did not answer ruok on its ZooKeeper port; run `npm run build` first');
  try {
    rows.push(await measure.coracle(c, coracleFlags.length ? `Coracle ${coracleFlags.join(' ')}` : 'Coracle'));
  } finally {
    await c.stop();
  }
  return rows;
}
