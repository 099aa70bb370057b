/**
 * The change script of a multi: the znode changes in the order ZooKeeper's ops made them, kept
 * in the last-change key's value (key-schema.ts) when the key events alone cannot tell. A multi
 * commits its net effect, one op per key (etcd refuses a key twice in a txn), so "create X then
 * setData X" is one put of X, "delete X then create X" a put of an existing X, and "create X
 * then delete X" nothing at all; ZooKeeper fires NodeCreated + NodeDataChanged, NodeDeleted +
 * NodeCreated, and NodeCreated + NodeDeleted for them. The change feed fires the script's
 * changes instead of the derived ones when the revision carries a script.
 *
 * Written only when some path changes more than once: otherwise the key events, in op order,
 * already give ZooKeeper's sequence, and the last-change key stays empty.
 */
import { NodeChange } from './znode-tree';

const CODE = { created: 'c', changed: 'u', deleted: 'd' } as const;
const TYPE: Record<string, NodeChange['type']> = { c: 'created', u: 'changed', d: 'deleted' };

/** True when some path appears more than once in `changes` (a script is needed). */
export function needsChangeScript(changes: readonly NodeChange[]): boolean {
  if (changes.length < 2) return false;
  const seen = new Set<string>();
  for (const c of changes) {
    if (seen.has(c.path)) return true;
    seen.add(c.path);
  }
  return false;
}

/** The script's bytes: JSON `[[code, path], …]`. */
export function encodeChangeScript(changes: readonly NodeChange[]): Buffer {
  return Buffer.from(JSON.stringify(changes.map((c) => [CODE[c.type], c.path])), 'utf8');
}

/**
 * The changes of a script, or undefined when `value` is not one (a foreign writer, or an older
 * proxy's empty value): the caller then fires the changes derived from the key events.
 */
export function decodeChangeScript(value: Buffer): NodeChange[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const out: NodeChange[] = [];
  for (const item of parsed) {
    if (!Array.isArray(item) || typeof item[1] !== 'string' || typeof item[0] !== 'string') return undefined;
    const type = TYPE[item[0]];
    if (!type || !item[1].startsWith('/')) return undefined;
    out.push({ type, path: item[1] });
  }
  return out;
}
