/**
 * ZooKeeper error codes (KeeperException.Code; zk-protocol.md §1.11). A ReplyHeader carries one
 * of these in `err`; a multi result of type -1 carries one in its ErrorResponse.
 */

/** Every error code the server may send. */
export const ZkErr = {
  OK: 0,
  SYSTEMERROR: -1,
  RUNTIMEINCONSISTENCY: -2,
  DATAINCONSISTENCY: -3,
  CONNECTIONLOSS: -4,
  MARSHALLINGERROR: -5,
  UNIMPLEMENTED: -6,
  OPERATIONTIMEOUT: -7,
  BADARGUMENTS: -8,
  UNKNOWNSESSION: -12,
  NEWCONFIGNOQUORUM: -13,
  RECONFIGINPROGRESS: -14,
  APIERROR: -100,
  NONODE: -101,
  NOAUTH: -102,
  BADVERSION: -103,
  NOCHILDRENFOREPHEMERALS: -108,
  NODEEXISTS: -110,
  NOTEMPTY: -111,
  SESSIONEXPIRED: -112,
  INVALIDCALLBACK: -113,
  INVALIDACL: -114,
  AUTHFAILED: -115,
  SESSIONMOVED: -118,
  NOTREADONLY: -119,
  EPHEMERALONLOCALSESSION: -120,
  NOWATCHER: -121,
  REQUESTTIMEOUT: -122,
  RECONFIGDISABLED: -123,
  SESSIONCLOSEDREQUIRESASLAUTH: -124,
  QUOTAEXCEEDED: -125,
  THROTTLEDOP: -127,
} as const;

/** The name of an error code. */
export type ZkErrName = keyof typeof ZkErr;

const NAMES = new Map<number, ZkErrName>(
  (Object.entries(ZkErr) as [ZkErrName, number][]).map(([k, v]) => [v, k]),
);

/** The name of `code` (e.g. `NONODE`), or `ERR<code>` for an unknown value. */
export function errName(code: number): string {
  return NAMES.get(code) ?? `ERR${code}`;
}
