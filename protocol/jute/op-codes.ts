/**
 * ZooKeeper op codes (ZooDefs.OpCode; zk-protocol.md §1.6) and the special xids of the client
 * protocol (ClientCnxn; §1.5).
 */

/** Every op code a client (or a server-internal txn) can carry in a RequestHeader. */
export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;

/** The name of an op code. */
export type OpName = keyof typeof OpCode;

const NAMES = new Map<number, OpName>(
  (Object.entries(OpCode) as [OpName, number][]).map(([k, v]) => [v, k]),
);

/** The name of `code`, or `op<code>` for an unknown one (for logs and metrics). */
export function opName(code: number): string {
  return NAMES.get(code) ?? `op${code}`;
}

/** Special xids (ClientCnxn): notifications, pings, auth and set-watches packets. */
export const Xid = {
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
} as const;
