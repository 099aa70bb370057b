/**
 * Command-line parsing for grpc-load (kept apart so the runner stays a library).
 */

import type { RunLoadOptions } from './grpc-load';

/** The help text printed on a usage error. */
export const USAGE = `usage: node dist/bench/lib/grpc-load.js --target HOST:PORT --path /pkg.Service/Method
  (--body-hex HEX | --body-module PATH)   request message; the module exports makeBody(i, proc)
  [--conns N=1] [--concurrency M=1]      totals, split over processes
  [--total T=10000 | --duration SECONDS] [--procs P=1]
  [--header key:value]...                extra metadata (repeatable)
  [--engine raw|node]                    HTTP/2 client (raw: hand-written framing, cheapest)
  [--stall-ms MS=10000] [--watch-pid PID] [--json]
`;

/** The parsed command line. */
export interface ParsedArgs {
  options: RunLoadOptions;
  json: boolean;
}

/** A positive integer flag value, or an error naming the flag. */
function positiveInt(flag: string, value: string | undefined, allowZero = false): number {
  const n = Number(value);
  if (value === undefined || !Number.isSafeInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new Error(`${flag} needs a ${allowZero ? 'non-negative' : 'positive'} integer, got ${String(value)}`);
  }
  return n;
}

/** Parses argv (without node and script); throws with a message on a usage error. */
export function parseArgs(argv: string[]): ParsedArgs {
  let target: string | undefined;
  let path: string | undefined;
  let body: Uint8Array | undefined;
  let bodyModule: string | undefined;
  const options: Partial<RunLoadOptions> = {};
  const metadata: Record<string, string> = {};
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--target': target = value(); break;
      case '--path': path = value(); break;
      case '--body-hex': {
        const hex = value().replace(/\s+/g, '');
        if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error('--body-hex needs an even number of hex digits');
        body = Buffer.from(hex, 'hex');
        break;
      }
      case '--body-module': bodyModule = require.resolve(value(), { paths: [process.cwd()] }); break;
      case '--conns': options.conns = positiveInt(flag, value()); break;
      case '--concurrency': options.concurrency = positiveInt(flag, value()); break;
      case '--total': options.total = positiveInt(flag, value()); break;
      case '--duration': options.durationMs = Number(value()) * 1000; break;
      case '--procs': options.procs = positiveInt(flag, value()); break;
      case '--stall-ms': options.stallMs = positiveInt(flag, value()); break;
      case '--watch-pid': options.watchPid = positiveInt(flag, value()); break;
      case '--header': {
        const h = value();
        const colon = h.indexOf(':');
        if (colon <= 0) throw new Error('--header needs key:value');
        metadata[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
        break;
      }
      case '--engine': {
        const engine = value();
        if (engine !== 'raw' && engine !== 'node') throw new Error('--engine is raw or node');
        options.engine = engine;
        break;
      }
      case '--json': json = true; break;
      default: throw new Error(`unknown flag ${flag}`);
    }
  }
  if (target === undefined || path === undefined) throw new Error('--target and --path are required');
  if (body === undefined && bodyModule === undefined) body = Buffer.alloc(0);
  if (options.durationMs !== undefined && !(options.durationMs > 0)) throw new Error('--duration needs a positive number of seconds');
  return {
    options: { ...options, target, path, body: body ?? Buffer.alloc(0), bodyModule, metadata },
    json,
  };
}
