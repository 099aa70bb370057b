/**
 * Request records of the client protocol (zookeeper.jute, package proto; zk-protocol.md §1.7,
 * §1.9) and the `ZkRequest` union that names each by the op code it travels under. Multi
 * requests are in `multi-codec.ts`; the dispatch by op code is in `request-codec.ts`.
 */
import { Acl, readAclList, readStringList, writeAclList, writeStringList } from './records-data';
import { JuteReader } from './jute-reader';
import { JuteWriter } from './jute-writer';

/** create (1), create2 (15), createContainer (19): CreateRequest. */
export interface CreateRequest {
  path: string;
  data: Buffer | null;
  acl: Acl[];
  flags: number;
}

/** createTTL (21): CreateTTLRequest. */
export interface CreateTtlRequest extends CreateRequest {
  ttl: bigint;
}

/** delete (2). */
export interface DeleteRequest {
  path: string;
  version: number;
}

/** exists (3), getData (4), getChildren (8), getChildren2 (12): a path and a watch flag. */
export interface PathWatchRequest {
  path: string;
  watch: boolean;
}

/** setData (5). */
export interface SetDataRequest {
  path: string;
  data: Buffer | null;
  version: number;
}

/** getACL (6), sync (9), deleteContainer (20), getAllChildrenNumber (104): just a path. */
export interface PathRequest {
  path: string;
}

/** setACL (7); `version` is the expected aversion. */
export interface SetAclRequest {
  path: string;
  acl: Acl[];
  version: number;
}

/** check (13): CheckVersionRequest. */
export interface CheckVersionRequest {
  path: string;
  version: number;
}

/** reconfig (16). */
export interface ReconfigRequest {
  joiningServers: string | null;
  leavingServers: string | null;
  newMembers: string | null;
  curConfigId: bigint;
}

/** checkWatches (17), removeWatches (18); `type` is a WatcherType. */
export interface WatchesRequest {
  path: string;
  type: number;
}

/** setWatches (101) and setWatches2 (105); the last two lists are empty for 101. */
export interface SetWatchesRequest {
  relativeZxid: bigint;
  dataWatches: string[];
  existWatches: string[];
  childWatches: string[];
  persistentWatches: string[];
  persistentRecursiveWatches: string[];
}

/** addWatch (106); `mode` is an AddWatchMode. */
export interface AddWatchRequest {
  path: string;
  mode: number;
}

/** sasl (102): GetSASLRequest. */
export interface SaslRequest {
  token: Buffer | null;
}

/** getEphemerals (103). */
export interface GetEphemeralsRequest {
  prefixPath: string;
}

/** Reads a CreateRequest. */
export function readCreate(r: JuteReader): CreateRequest {
  const path = r.readString('CreateRequest.path');
  const data = r.readBuffer('CreateRequest.data');
  const acl = readAclList(r);
  const flags = r.readInt('CreateRequest.flags');
  return { path, data, acl, flags };
}

/** Writes a CreateRequest. */
export function writeCreate(w: JuteWriter, v: CreateRequest): void {
  w.writeUString(v.path).writeBuffer(v.data);
  writeAclList(w, v.acl);
  w.writeInt(v.flags);
}

/** Reads a CreateTTLRequest. */
export function readCreateTtl(r: JuteReader): CreateTtlRequest {
  const base = readCreate(r);
  return { ...base, ttl: r.readLong('CreateTTLRequest.ttl') };
}

/** Writes a CreateTTLRequest. */
export function writeCreateTtl(w: JuteWriter, v: CreateTtlRequest): void {
  writeCreate(w, v);
  w.writeLong(v.ttl);
}

/** Reads a path + version record (DeleteRequest, CheckVersionRequest). */
export function readPathVersion(r: JuteReader): DeleteRequest {
  return { path: r.readString('path'), version: r.readInt('version') };
}

/** Writes a path + version record. */
export function writePathVersion(w: JuteWriter, v: DeleteRequest): void {
  w.writeUString(v.path).writeInt(v.version);
}

/** Reads a path + watch record. */
export function readPathWatch(r: JuteReader): PathWatchRequest {
  return { path: r.readString('path'), watch: r.readBool('watch') };
}

/** Writes a path + watch record. */
export function writePathWatch(w: JuteWriter, v: PathWatchRequest): void {
  w.writeUString(v.path).writeBool(v.watch);
}

/** Reads a SetDataRequest. */
export function readSetData(r: JuteReader): SetDataRequest {
  const path = r.readString('SetDataRequest.path');
  const data = r.readBuffer('SetDataRequest.data');
  return { path, data, version: r.readInt('SetDataRequest.version') };
}

/** Writes a SetDataRequest. */
export function writeSetData(w: JuteWriter, v: SetDataRequest): void {
  w.writeUString(v.path).writeBuffer(v.data).writeInt(v.version);
}

/** Reads a one-path record. */
export function readPath(r: JuteReader): PathRequest {
  return { path: r.readString('path') };
}

/** Writes a one-path record. */
export function writePath(w: JuteWriter, v: PathRequest): void {
  w.writeUString(v.path);
}

/** Reads a SetACLRequest. */
export function readSetAcl(r: JuteReader): SetAclRequest {
  const path = r.readString('SetACLRequest.path');
  const acl = readAclList(r);
  return { path, acl, version: r.readInt('SetACLRequest.version') };
}

/** Writes a SetACLRequest. */
export function writeSetAcl(w: JuteWriter, v: SetAclRequest): void {
  w.writeUString(v.path);
  writeAclList(w, v.acl);
  w.writeInt(v.version);
}

/** Reads a ReconfigRequest. */
export function readReconfig(r: JuteReader): ReconfigRequest {
  return {
    joiningServers: r.readUString('joiningServers'),
    leavingServers: r.readUString('leavingServers'),
    newMembers: r.readUString('newMembers'),
    curConfigId: r.readLong('curConfigId'),
  };
}

/** Writes a ReconfigRequest. */
export function writeReconfig(w: JuteWriter, v: ReconfigRequest): void {
  w.writeUString(v.joiningServers).writeUString(v.leavingServers).writeUString(v.newMembers);
  w.writeLong(v.curConfigId);
}

/** Reads a Check/RemoveWatchesRequest. */
export function readWatches(r: JuteReader): WatchesRequest {
  return { path: r.readString('path'), type: r.readInt('type') };
}

/** Writes a Check/RemoveWatchesRequest. */
export function writeWatches(w: JuteWriter, v: WatchesRequest): void {
  w.writeUString(v.path).writeInt(v.type);
}

/** Reads SetWatches (v1) or SetWatches2 (`v2`: two more lists). */
export function readSetWatches(r: JuteReader, v2: boolean): SetWatchesRequest {
  const relativeZxid = r.readLong('SetWatches.relativeZxid');
  const dataWatches = readStringList(r, 'dataWatches');
  const existWatches = readStringList(r, 'existWatches');
  const childWatches = readStringList(r, 'childWatches');
  const persistentWatches = v2 ? readStringList(r, 'persistentWatches') : [];
  const persistentRecursiveWatches = v2 ? readStringList(r, 'persistentRecursiveWatches') : [];
  return { relativeZxid, dataWatches, existWatches, childWatches, persistentWatches, persistentRecursiveWatches };
}

/** Writes SetWatches (v1) or SetWatches2 (`v2`). */
export function writeSetWatches(w: JuteWriter, v: SetWatchesRequest, v2: boolean): void {
  w.writeLong(v.relativeZxid);
  writeStringList(w, v.dataWatches);
  writeStringList(w, v.existWatches);
  writeStringList(w, v.childWatches);
  if (v2) {
    writeStringList(w, v.persistentWatches);
    writeStringList(w, v.persistentRecursiveWatches);
  }
}

/** Reads an AddWatchRequest. */
export function readAddWatch(r: JuteReader): AddWatchRequest {
  return { path: r.readString('AddWatchRequest.path'), mode: r.readInt('AddWatchRequest.mode') };
}

/** Writes an AddWatchRequest. */
export function writeAddWatch(w: JuteWriter, v: AddWatchRequest): void {
  w.writeUString(v.path).writeInt(v.mode);
}
