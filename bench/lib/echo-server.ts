/**
 * A gRPC server with nothing behind the transport, to measure the transport itself: every
 * registered unary path answers at once with a fixed response (or the request, with --echo).
 *
 *   node dist/bench/lib/echo-server.js [--host 127.0.0.1] [--port 0] \
 *     [--path /etcdserverpb.KV/Range]... [--response-hex HEX | --echo]
 *
 * Prints one line `listening HOST:PORT pid PID` when ready; exits on SIGINT/SIGTERM.
 */

import { ClientListener } from '../../core/server/grpc/client-listener';
import { GrpcServer } from '../../core/server/grpc/grpc-server';

/** Options of {@link startEchoServer}. */
export interface EchoServerOptions {
  host?: string;
  port?: number;
  paths?: string[];
  /** The response message for every call; ignored with `echo`. */
  response?: Uint8Array;
  /** Answer each request with itself. */
  echo?: boolean;
}

/** Starts an echo/fixed-response gRPC server; resolves with its listener. */
export async function startEchoServer(options: EchoServerOptions = {}): Promise<ClientListener> {
  const server = new GrpcServer();
  const response = options.response ?? Buffer.alloc(0);
  const identity = (b: Buffer): Buffer => b;
  for (const path of options.paths ?? ['/etcdserverpb.KV/Range']) {
    if (options.echo === true) server.unary(path, identity, identity, async (req: Buffer) => req);
    else server.unary(path, identity, () => response, async () => response);
  }
  return ClientListener.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0, grpc: server });
}

function parse(argv: string[]): EchoServerOptions {
  const options: EchoServerOptions = { paths: [] };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--host': options.host = v; i++; break;
      case '--port': options.port = Number(v); i++; break;
      case '--path': options.paths?.push(v); i++; break;
      case '--response-hex': options.response = Buffer.from(v, 'hex'); i++; break;
      case '--echo': options.echo = true; break;
      default: throw new Error(`unknown flag ${argv[i]}`);
    }
  }
  if (options.paths?.length === 0) delete options.paths;
  return options;
}

if (require.main === module) {
  void startEchoServer(parse(process.argv.slice(2))).then((listener) => {
    process.stdout.write(`listening ${listener.host}:${listener.port} pid ${process.pid}\n`);
    const stop = (): void => {
      void listener.close().then(() => process.exit(0));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
