/**
 * Identify and signal a process tree that a test started, on Linux via /proc. A process is
 * identified by (pid, start time), so a pid recycled by the kernel is never signalled: a test
 * only ever kills what it started (its child and that child's descendants), never by name.
 */
import * as fs from 'node:fs';

/** Start time (clock ticks since boot, field 22 of /proc/PID/stat): with the pid, a process identity. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after it.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** A process identity that survives pid reuse: pid plus start time. */
export interface ProcId {
  pid: number;
  start: string | undefined;
}

/** `root` and all its live descendants (one /proc scan; bounded by the number of processes). */
export function treeOf(root: number): ProcId[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    // Not Linux: only the root itself can be identified.
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    const ppid = parentOf(pid);
    if (ppid === undefined) continue;
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const out: ProcId[] = [];
  const queue = [root];
  while (queue.length > 0 && out.length < 10_000) {
    const pid = queue.shift() as number;
    out.push({ pid, start: startTimeOf(pid) });
    for (const c of children.get(pid) ?? []) queue.push(c);
  }
  return out;
}

/** Signal each process of `ids` that is still the same process (pid and start time match). */
export function signalTree(ids: ProcId[], signal: NodeJS.Signals): void {
  for (const id of ids) {
    if (id.start === undefined || startTimeOf(id.pid) !== id.start) continue;
    try {
      process.kill(id.pid, signal);
    } catch {
      // Already gone between the check and the kill: nothing to do.
    }
  }
}
