/**
 * `protocol/jute`: the ZooKeeper client protocol as data — a bounds-checked reader and writer
 * for the jute primitives, every record of the client protocol, framing with a maximum size,
 * and the op/error/event code tables. It imports nothing outside itself (DESIGN §3).
 */
export * from './jute-error';
export * from './jute-reader';
export * from './jute-writer';
export * from './int64';
export * from './op-codes';
export * from './error-codes';
export * from './zoo-defs';
export * from './records-data';
export * from './records-session';
export * from './records-requests';
export * from './multi-codec';
export * from './request-codec';
export * from './response-codec';
export * from './frame-decoder';
