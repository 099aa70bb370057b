/**
 * This process's open file descriptors and their limit, as ZooKeeper's `mntr` reports them
 * (zk_open_file_descriptor_count, zk_max_file_descriptor_count: what monitoring alerts on before
 * a server runs out of sockets). Read from /proc on Linux; undefined elsewhere, where ZooKeeper
 * too leaves the two lines out.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Open descriptors and the soft limit on them, or undefined when /proc cannot tell. */
export function fileDescriptors(): { open: number; max: number } | undefined {
  try {
    const open = readdirSync('/proc/self/fd').length;
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line ? Number(line.slice('Max open files'.length).trim().split(/\s+/)[0]) : NaN;
    return Number.isFinite(soft) ? { open, max: soft } : undefined;
  } catch {
    return undefined;
  }
}
