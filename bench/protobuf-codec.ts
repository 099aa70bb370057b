/**
 * Protobuf codec micro-benchmark: encode, decode and encode+decode operations per second of the
 * generated etcd codecs (protocol/etcd/generated) against protobufjs reflection over the same
 * .proto files, and optionally ts-proto output, on the messages of the hot paths:
 * PutRequest (8-byte key, 256-byte value), RangeResponse with 1 and 100 KeyValues, and a
 * WatchResponse with 10 events. Every codec first must produce the same bytes.
 *
 *   npm run build && node dist/bench/protobuf-codec.js [--seconds S] [--ts-proto DIR]
 *
 * DIR is made by `scripts/gen-proto.sh --ts-proto DIR`. Each cell is the median of 5 timed
 * runs of S/5 seconds (default S = 2) after a warm-up. Results: bench/RESULTS.md.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import { rpc } from '../protocol/etcd';

/** One codec's functions for one message type, resolved before timing. */
interface Bound {
  /** The codec's own in-memory form of the message (not timed). */
  readonly prepared: unknown;
  encode(prepared: unknown): Uint8Array;
  decode(bytes: Uint8Array): unknown;
}

interface Codec {
  readonly name: string;
  bind(typeName: string, message: unknown): Bound;
}

interface Case {
  readonly name: string;
  readonly typeName: string;
  readonly message: unknown;
}

type Row = { codec: string; case: string; bytes: number; encode: number; decode: number; roundTrip: number };

const header = { clusterId: 0xcdf818194e3a8c32n, memberId: 0x8e9e05c52164694dn, revision: 123456n, raftTerm: 7n };

function keyValue(i: number): rpc.RangeResponse['kvs'][number] {
  return {
    key: Buffer.from(`key/${String(i).padStart(8, '0')}`),
    createRevision: 1000n + BigInt(i),
    modRevision: 2000n + BigInt(i),
    version: 3n,
    value: Buffer.alloc(256, 0x61),
    lease: i % 2 === 0 ? 0n : 0x694d5d2f465b6c07n,
  };
}

const CASES: Case[] = [
  { name: 'PutRequest 8B key, 256B value', typeName: 'PutRequest', message: rpc.PutRequest.fromPartial({ key: Buffer.from('key00001'), value: Buffer.alloc(256, 0x78) }) },
  { name: 'RangeResponse, 1 kv', typeName: 'RangeResponse', message: rpc.RangeResponse.fromPartial({ header, kvs: [keyValue(1)], count: 1n }) },
  {
    name: 'RangeResponse, 100 kvs',
    typeName: 'RangeResponse',
    message: rpc.RangeResponse.fromPartial({ header, kvs: Array.from({ length: 100 }, (_, i) => keyValue(i)), count: 100n }),
  },
  {
    name: 'WatchResponse, 10 events',
    typeName: 'WatchResponse',
    message: rpc.WatchResponse.fromPartial({ header, watchId: 1n, events: Array.from({ length: 10 }, (_, i) => ({ type: 0, kv: keyValue(i) })) }),
  },
];

function oursCodec(): Codec {
  const codecs = rpc as unknown as Record<string, { encode(m: unknown): Buffer; decode(b: Uint8Array): unknown }>;
  return {
    name: 'coracle (generated)',
    bind: (t, m) => {
      const codec = codecs[t]!;
      return { prepared: m, encode: (x) => codec.encode(x), decode: (b) => codec.decode(b) };
    },
  };
}

/** protobufjs reflection (Root.loadSync on our .proto files); int64 become Long objects. */
function protobufjsCodec(): Codec {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(__dirname, '../../protocol/etcd/proto', target);
  root.loadSync(['rpc.proto']);
  return {
    name: 'protobufjs (reflection)',
    bind: (t, m) => {
      const type = root.lookupType(`etcdserverpb.${t}`);
      return {
        prepared: type.fromObject(toProtobufjsObject(m) as Record<string, unknown>),
        encode: (x) => type.encode(x as protobuf.Message).finish(),
        decode: (b) => type.decode(b),
      };
    },
  };
}

const LONG = protobuf.util.Long as unknown as { fromString(s: string, unsigned: boolean): unknown };

/** Our message form to protobufjs's: bigint → Long, defaults dropped (proto3 presence). */
function toProtobufjsObject(v: unknown): unknown {
  if (typeof v === 'bigint') return LONG.fromString(v.toString(), v >= 2n ** 63n);
  if (Buffer.isBuffer(v) || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(toProtobufjsObject);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined || x === false || x === 0 || x === 0n || x === '' || (Buffer.isBuffer(x) && x.length === 0)) continue;
    if (Array.isArray(x) && x.length === 0) continue;
    out[k] = toProtobufjsObject(x);
  }
  return out;
}

/** ts-proto output compiled by `scripts/gen-proto.sh --ts-proto DIR` (bigint int64, Buffer bytes). */
function tsProtoCodec(dir: string): Codec {
  type TsProto = { encode(m: unknown): { finish(): Uint8Array }; decode(b: Uint8Array): unknown };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(join(dir, 'out', 'rpc.js')) as Record<string, TsProto>;
  return {
    name: 'ts-proto + @bufbuild/protobuf',
    bind: (t, m) => {
      const codec = mod[t]!;
      return { prepared: m, encode: (x) => codec.encode(x).finish(), decode: (b) => codec.decode(b) };
    },
  };
}

let sink = 0;

/** Operations per second of `fn`: median of 5 runs of `seconds / 5` each, after a warm-up. */
function opsPerSecond(fn: () => unknown, seconds: number): number {
  const runMs = (seconds * 1000) / 5;
  const run = (ms: number): number => {
    let ops = 0;
    const start = process.hrtime.bigint();
    const limit = BigInt(Math.round(ms * 1e6));
    let elapsed = 0n;
    while (elapsed < limit) {
      for (let i = 0; i < 64; i++) {
        const r = fn() as { length?: number };
        sink += r === undefined ? 0 : 1;
      }
      ops += 64;
      elapsed = process.hrtime.bigint() - start;
    }
    return ops / (Number(elapsed) / 1e9);
  };
  run(runMs);
  const samples = Array.from({ length: 5 }, () => run(runMs)).sort((a, b) => a - b);
  return samples[2]!;
}

function measure(codecs: Codec[], seconds: number): Row[] {
  const rows: Row[] = [];
  for (const c of CASES) {
    let reference: string | undefined;
    for (const codec of codecs) {
      const bound = codec.bind(c.typeName, c.message);
      const prepared = bound.prepared;
      const bytes = bound.encode(prepared);
      const hex = Buffer.from(bytes).toString('hex');
      if (reference !== undefined && hex !== reference) throw new Error(`${codec.name} encodes ${c.name} differently`);
      reference = hex;
      rows.push({
        codec: codec.name,
        case: c.name,
        bytes: bytes.length,
        encode: opsPerSecond(() => bound.encode(prepared), seconds),
        decode: opsPerSecond(() => bound.decode(bytes), seconds),
        roundTrip: opsPerSecond(() => bound.decode(bound.encode(prepared)), seconds),
      });
    }
  }
  return rows;
}

function formatOps(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(1)}k`;
}

function table(rows: Row[]): string {
  const baseline = new Map(rows.filter((r) => r.codec.startsWith('protobufjs')).map((r) => [r.case, r]));
  const head = ['message', 'codec', 'bytes', 'encode/s', 'decode/s', 'enc+dec/s', 'enc+dec vs protobufjs'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const base = baseline.get(r.case);
    const ratio = base === undefined ? '' : `${(r.roundTrip / base.roundTrip).toFixed(2)}×`;
    lines.push(`| ${r.case} | ${r.codec} | ${r.bytes} | ${formatOps(r.encode)} | ${formatOps(r.decode)} | ${formatOps(r.roundTrip)} | ${ratio} |`);
  }
  return lines.join('\n');
}

function main(argv: string[]): void {
  let seconds = 2;
  let tsProtoDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seconds') seconds = Number(argv[++i]);
    else if (argv[i] === '--ts-proto') tsProtoDir = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  const codecs = [oursCodec(), protobufjsCodec(), ...(tsProtoDir === undefined ? [] : [tsProtoCodec(tsProtoDir)])];
  const cpu = cpus()[0]?.model ?? 'unknown cpu';
  process.stdout.write(`protobuf codec benchmark: node ${process.version}, ${cpus().length} × ${cpu}, ${seconds}s per cell\n\n`);
  process.stdout.write(`${table(measure(codecs, seconds))}\n`);
  if (sink < 0) process.stdout.write('\n');
}

main(process.argv.slice(2));
