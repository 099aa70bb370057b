/**
 * Records of the session layer: the handshake (ConnectRequest/ConnectResponse, with the
 * optional trailing readOnly byte), the request and reply headers, AuthPacket and the pushed
 * WatcherEvent (zk-protocol.md §1.3–§1.5, §1.10).
 */
import { JuteDecodeError } from './jute-error';
import { JuteReader } from './jute-reader';
import { JuteWriter } from './jute-writer';

/** The client's first packet (no header). `readOnly` is undefined when the client omitted it. */
export interface ConnectRequest {
  protocolVersion: number;
  lastZxidSeen: bigint;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  readOnly?: boolean;
}

/** The server's first packet (no header). `readOnly` is sent only if the request carried it. */
export interface ConnectResponse {
  protocolVersion: number;
  timeOut: number;
  sessionId: bigint;
  passwd: Buffer;
  readOnly?: boolean;
}

/** Precedes every client request after the handshake. */
export interface RequestHeader {
  xid: number;
  type: number;
}

/** Precedes every server reply after the handshake. */
export interface ReplyHeader {
  xid: number;
  zxid: bigint;
  err: number;
}

/** AuthPacket (op 100, xid -4); `auth` is "user:password" for the digest scheme. */
export interface AuthPacket {
  type: number;
  scheme: string;
  auth: Buffer;
}

/** A watch notification, pushed with xid -1. */
export interface WatcherEvent {
  type: number;
  state: number;
  path: string;
}

/**
 * Reads a ConnectRequest. The readOnly byte is optional (3.3 clients omit it): we read it only
 * if exactly one byte is left, as compat/ProtocolManager does. Anything else left over, or a
 * missing base field, is malformed.
 */
export function readConnectRequest(r: JuteReader): ConnectRequest {
  const protocolVersion = r.readInt('ConnectRequest.protocolVersion');
  const lastZxidSeen = r.readLong('ConnectRequest.lastZxidSeen');
  const timeOut = r.readInt('ConnectRequest.timeOut');
  const sessionId = r.readLong('ConnectRequest.sessionId');
  const passwd = r.readBuffer('ConnectRequest.passwd') ?? Buffer.alloc(0);
  const out: ConnectRequest = { protocolVersion, lastZxidSeen, timeOut, sessionId, passwd };
  if (r.remaining() >= 1) out.readOnly = r.readBool('ConnectRequest.readOnly');
  if (r.remaining() !== 0) {
    throw new JuteDecodeError('trailing-bytes', `ConnectRequest: ${r.remaining()} bytes left over`);
  }
  return out;
}

/** Writes a ConnectRequest (client side; the readOnly byte only if present). */
export function writeConnectRequest(w: JuteWriter, v: ConnectRequest): void {
  w.writeInt(v.protocolVersion).writeLong(v.lastZxidSeen).writeInt(v.timeOut);
  w.writeLong(v.sessionId).writeBuffer(v.passwd);
  if (v.readOnly !== undefined) w.writeBool(v.readOnly);
}

/** Writes a ConnectResponse; the readOnly byte only when `v.readOnly` is defined. */
export function writeConnectResponse(w: JuteWriter, v: ConnectResponse): void {
  w.writeInt(v.protocolVersion).writeInt(v.timeOut).writeLong(v.sessionId).writeBuffer(v.passwd);
  if (v.readOnly !== undefined) w.writeBool(v.readOnly);
}

/** Reads a ConnectResponse (client side); tolerates a missing readOnly byte. */
export function readConnectResponse(r: JuteReader): ConnectResponse {
  const protocolVersion = r.readInt('ConnectResponse.protocolVersion');
  const timeOut = r.readInt('ConnectResponse.timeOut');
  const sessionId = r.readLong('ConnectResponse.sessionId');
  const passwd = r.readBuffer('ConnectResponse.passwd') ?? Buffer.alloc(0);
  const out: ConnectResponse = { protocolVersion, timeOut, sessionId, passwd };
  if (r.remaining() >= 1) out.readOnly = r.readBool('ConnectResponse.readOnly');
  return out;
}

/** Reads a RequestHeader. */
export function readRequestHeader(r: JuteReader): RequestHeader {
  return { xid: r.readInt('RequestHeader.xid'), type: r.readInt('RequestHeader.type') };
}

/** Writes a RequestHeader. */
export function writeRequestHeader(w: JuteWriter, v: RequestHeader): void {
  w.writeInt(v.xid).writeInt(v.type);
}

/** Reads a ReplyHeader. */
export function readReplyHeader(r: JuteReader): ReplyHeader {
  return {
    xid: r.readInt('ReplyHeader.xid'),
    zxid: r.readLong('ReplyHeader.zxid'),
    err: r.readInt('ReplyHeader.err'),
  };
}

/** Writes a ReplyHeader. */
export function writeReplyHeader(w: JuteWriter, v: ReplyHeader): void {
  w.writeInt(v.xid).writeLong(v.zxid).writeInt(v.err);
}

/** Reads an AuthPacket. */
export function readAuthPacket(r: JuteReader): AuthPacket {
  return {
    type: r.readInt('AuthPacket.type'),
    scheme: r.readString('AuthPacket.scheme'),
    auth: r.readBuffer('AuthPacket.auth') ?? Buffer.alloc(0),
  };
}

/** Writes an AuthPacket. */
export function writeAuthPacket(w: JuteWriter, v: AuthPacket): void {
  w.writeInt(v.type).writeUString(v.scheme).writeBuffer(v.auth);
}

/** Reads a WatcherEvent. */
export function readWatcherEvent(r: JuteReader): WatcherEvent {
  return {
    type: r.readInt('WatcherEvent.type'),
    state: r.readInt('WatcherEvent.state'),
    path: r.readString('WatcherEvent.path'),
  };
}

/** Writes a WatcherEvent. */
export function writeWatcherEvent(w: JuteWriter, v: WatcherEvent): void {
  w.writeInt(v.type).writeInt(v.state).writeUString(v.path);
}
