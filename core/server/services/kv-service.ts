/**
 * The etcd KV service (`/etcdserverpb.KV/*`): Range, Put, DeleteRange, Txn, Compact.
 * Writes go through the log; reads are linearizable (a ReadIndex round) unless serializable; a
 * txn without writes takes the read path (etcd.md §2.2). Errors leave through the one table.
 */
import * as pb from '../../../protocol/etcd/generated/rpc';
import { GrpcServer } from '../grpc/grpc-server';
import { GrpcStatusError } from '../grpc/grpc-status';
import { toGrpcStatus } from '../../errors/grpc-error-table';
import { CoreError } from '../../util/core-error';
import { txnWrites } from '../../mvcc/kv-types';
import { runTxn } from '../../mvcc/txn-runner';
import { Member } from '../member';
import { checkQuota, putCost, txnCost } from '../quota';
import { checkDeleteRange, checkPut, checkRange, checkTxn } from '../request-validation';
import { deleteFromPb, pbDelete, pbHeader, pbPut, pbRange, pbTxn, putFromPb, rangeFromPb, toCount, txnFromPb } from './pb-mapping';

/** Marker for a request over --max-request-bytes (checked on the raw bytes, before decoding). */
const TOO_LARGE = Symbol('too large');

/** Wraps a decoder with etcd's request size limit. */
export function limitedDecoder<T>(decode: (b: Uint8Array) => T, maxBytes: number): (b: Buffer) => T | typeof TOO_LARGE {
  return (b) => (b.length > maxBytes ? TOO_LARGE : decode(b));
}

/** Turns any thrown error into the gRPC status etcd would send. */
export function grpcError(err: unknown): GrpcStatusError {
  if (err instanceof GrpcStatusError) return err;
  const s = toGrpcStatus(err);
  return new GrpcStatusError(s.code as number, s.message);
}

/** Runs a handler body, translating errors at the edge. */
export async function guarded<T>(body: () => Promise<T> | T): Promise<T> {
  try {
    return await body();
  } catch (err) {
    throw grpcError(err);
  }
}

function notTooLarge<T>(req: T | typeof TOO_LARGE): T {
  if (req === TOO_LARGE) throw new CoreError('request-too-large');
  return req;
}

/** Registers the KV service. */
export function registerKvService(server: GrpcServer, member: Member): void {
  const max = member.config.maxRequestBytes;
  server.unary('/etcdserverpb.KV/Range', limitedDecoder(pb.RangeRequest.decode, max), pb.RangeResponse.encode, (req) =>
    guarded(async () => {
      const r = rangeFromPb(notTooLarge(req));
      checkRange(r);
      if (!r.serializable) await member.linearize();
      const result = member.kv.range(r);
      return pbRange(pbHeader(member.header()), result);
    }),
  );
  server.unary('/etcdserverpb.KV/Put', limitedDecoder(pb.PutRequest.decode, max), pb.PutResponse.encode, (req) =>
    guarded(async () => {
      const p = putFromPb(notTooLarge(req));
      checkPut(p);
      await checkQuota(member, putCost(p));
      const out = await member.propose({ type: 'put', put: p });
      return pbPut(pbHeader(member.header(out.revision)), out.result?.type === 'put' ? out.result.put : {});
    }),
  );
  server.unary('/etcdserverpb.KV/DeleteRange', limitedDecoder(pb.DeleteRangeRequest.decode, max), pb.DeleteRangeResponse.encode, (req) =>
    guarded(async () => {
      const d = deleteFromPb(notTooLarge(req));
      checkDeleteRange(d);
      const out = await member.propose({ type: 'deleteRange', deleteRange: d });
      return pbDelete(pbHeader(member.header(out.revision)), out.result?.type === 'deleteRange' ? out.result.deleteRange : { deleted: 0, prevKvs: [] });
    }),
  );
  server.unary('/etcdserverpb.KV/Txn', limitedDecoder(pb.TxnRequest.decode, max), pb.TxnResponse.encode, (req) =>
    guarded(async () => {
      const t = txnFromPb(notTooLarge(req));
      checkTxn(t, member.config.maxTxnOps);
      if (!txnWrites(t)) {
        await member.linearize();
        const result = runTxn(member.kv.readView(), t);
        return pbTxn(pbHeader(member.header()), result);
      }
      await checkQuota(member, txnCost(t));
      const out = await member.propose({ type: 'txn', txn: t });
      if (out.result?.type !== 'txn') throw new CoreError('not-capable', 'txn without result');
      return pbTxn(pbHeader(member.header(out.revision)), out.result.txn);
    }),
  );
  server.unary('/etcdserverpb.KV/Compact', limitedDecoder(pb.CompactionRequest.decode, max), pb.CompactionResponse.encode, (req) =>
    guarded(async () => {
      const c = notTooLarge(req);
      const out = await member.propose({ type: 'compaction', revision: toCount(c.revision), physical: c.physical });
      return { header: pbHeader(member.header(out.revision)) };
    }),
  );
}
