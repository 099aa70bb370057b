/**
 * Shared fixtures for the gRPC transport tests: a server on 127.0.0.1:0 with a raw Buffer codec,
 * a grpc-js client, promise wrappers, and a bounded wait.
 */

import * as grpc from '@grpc/grpc-js';
import { ClientListener, type ClientListenerOptions } from '../../../../../core/server/grpc/client-listener';
import { GrpcServer, type GrpcServerOptions } from '../../../../../core/server/grpc/grpc-server';
import { waitUntil } from '../../../../support/poll';

/** The identity codec: messages are raw bytes. */
export const rawDecode = (b: Buffer): Buffer => b;
export const rawEncode = (b: Uint8Array): Uint8Array => b;
const rawSerialize = (b: Buffer): Buffer => b;
const rawDeserialize = (b: Buffer): Buffer => b;

/** A running listener + server, and a grpc-js client dialled to it. */
export interface Fixture {
  server: GrpcServer;
  listener: ClientListener;
  client: grpc.Client;
  close(): Promise<void>;
}

/** Starts a server with the methods `register` adds, and a client for it. */
export async function startFixture(
  register: (server: GrpcServer) => void,
  serverOptions: GrpcServerOptions = {},
  listenerOptions: Partial<ClientListenerOptions> = {},
  clientOptions: grpc.ChannelOptions = {},
): Promise<Fixture> {
  const server = new GrpcServer(serverOptions);
  register(server);
  const listener = await ClientListener.listen({ host: '127.0.0.1', port: 0, grpc: server, ...listenerOptions });
  const client = new grpc.Client(`127.0.0.1:${listener.port}`, grpc.credentials.createInsecure(), clientOptions);
  return {
    server,
    listener,
    client,
    async close() {
      client.close();
      await listener.close();
    },
  };
}

/** The outcome of a unary call: a response or an error with code and details. */
export interface UnaryResult {
  response?: Buffer;
  code: number;
  details: string;
}

/** Makes a unary call with raw bytes and never rejects. */
export function unaryCall(
  client: grpc.Client,
  path: string,
  request: Buffer,
  metadata: grpc.Metadata = new grpc.Metadata(),
  options: grpc.CallOptions = {},
): Promise<UnaryResult> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, rawSerialize, rawDeserialize, request, metadata, options, (err, response) => {
      if (err) resolve({ code: err.code, details: err.details });
      else resolve({ response, code: 0, details: '' });
    });
  });
}

/** Opens a raw-bytes bidi stream. */
export function bidiCall(client: grpc.Client, path: string, options: grpc.CallOptions = {}): grpc.ClientDuplexStream<Buffer, Buffer> {
  return client.makeBidiStreamRequest(path, rawSerialize, rawDeserialize, new grpc.Metadata(), options);
}

/** Opens a raw-bytes server stream. */
export function serverStreamCall(client: grpc.Client, path: string, request: Buffer): grpc.ClientReadableStream<Buffer> {
  return client.makeServerStreamRequest(path, rawSerialize, rawDeserialize, request, new grpc.Metadata());
}

/** Opens a raw-bytes client stream; the promise settles with the unary-style result. */
export function clientStreamCall(client: grpc.Client, path: string): { stream: grpc.ClientWritableStream<Buffer>; result: Promise<UnaryResult> } {
  let stream!: grpc.ClientWritableStream<Buffer>;
  const result = new Promise<UnaryResult>((resolve) => {
    stream = client.makeClientStreamRequest(path, rawSerialize, rawDeserialize, (err, response) => {
      if (err) resolve({ code: err.code, details: err.details });
      else resolve({ response, code: 0, details: '' });
    });
  });
  return { stream, result };
}

/** Collects a client stream's messages and final status. */
export function collect(stream: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>): Promise<{ messages: Buffer[]; code: number; details: string }> {
  return new Promise((resolve) => {
    const messages: Buffer[] = [];
    let error: grpc.ServiceError | undefined;
    stream.on('data', (m: Buffer) => messages.push(m));
    stream.on('error', (e: grpc.ServiceError) => {
      error = e;
    });
    stream.on('status', (s: grpc.StatusObject) => {
      // 'status' follows 'error' for a failed call; resolve after the event loop turns so both landed.
      setImmediate(() => resolve({ messages, code: error ? error.code : s.code, details: error ? error.details : s.details }));
    });
  });
}

/** Polls `predicate` every 5 ms until it holds or `timeoutMs` passes (then throws). */
export function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  return waitUntil(what, predicate, timeoutMs);
}
