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
 *
 * A node the multi creates and deletes again leaves no key at all, yet its watchers are told
 * only if they may read it: such a `created` entry carries the ACL it was created with (the
 * one incarnation the store never holds; every other ACL the feed can read, change-acls.ts).
 */
import { Acl } from '../../protocol/jute';
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

/**
 * The script's bytes: JSON `[[code, path, acl?], …]`, `acl` as `[[perms, scheme, id], …]` on a
 * `created` entry whose node a later entry deletes (taken from the entry's `acl`; open if none).
 */
export function encodeChangeScript(changes: readonly NodeChange[]): Buffer {
  const deletedLater = new Set<number>();
  const lastCreate = new Map<string, number>();
  changes.forEach((c, i) => {
    if (c.type === 'created') lastCreate.set(c.path, i);
    else if (c.type === 'deleted' && lastCreate.has(c.path)) deletedLater.add(lastCreate.get(c.path)!);
  });
  const entries = changes.map((c, i) => {
    if (!deletedLater.has(i)) return [CODE[c.type], c.path];
    return [CODE[c.type], c.path, (c.acl ?? []).map((a) => [a.perms, a.id.scheme, a.id.id])];
  });
  return Buffer.from(JSON.stringify(entries), 'utf8');
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
    const change: NodeChange = { type, path: item[1] };
    if (item.length > 2) {
      const acl = decodeAcl(item[2]);
      if (!acl || type !== 'created') return undefined;
      change.acl = acl;
    }
    out.push(change);
  }
  return out;
}

function decodeAcl(value: unknown): Acl[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: Acl[] = [];
  for (const a of value) {
    if (!Array.isArray(a) || !Number.isInteger(a[0]) || typeof a[1] !== 'string' || typeof a[2] !== 'string') return undefined;
    out.push({ perms: a[0] as number, id: { scheme: a[1], id: a[2] } });
  }
  return out;
}
