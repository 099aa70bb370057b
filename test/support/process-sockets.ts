/**
 * Which servers a process of the test is talking to: the remote ports of its established TCP
 * connections, read from /proc (its descriptors' socket inodes matched against the kernel's TCP
 * tables). A fault test uses it to kill the very member a client is connected to.
 */
import * as fs from 'node:fs';

/** TCP state ESTABLISHED in /proc/net/tcp. */
const ESTABLISHED = '01';

/** The socket inodes among `pid`'s open descriptors (empty once it exited). */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1]!);
    } catch {
      // The descriptor closed while we listed them.
    }
  }
  return out;
}

/** Remote ports of `pid`'s established TCP connections (IPv4 and IPv6), sorted, without repeats. */
export function connectedPorts(pid: number): number[] {
  const inodes = socketInodes(pid);
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      if (f.length < 10 || f[3] !== ESTABLISHED || !inodes.has(f[9]!)) continue;
      ports.add(parseInt(f[2]!.split(':')[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}
