/**
 * The logging decorator (zkproxy/dispatch/logging-handler.ts): a debug record per request only
 * when the logger writes debug and the trace mask selects the request's category, a warning for our own failures (SYSTEMERROR, CONNECTIONLOSS)
 * whatever the level, and the reply passed through untouched either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZkErr } from '../../../../protocol/jute';
import { withLogging } from '../../../../zkproxy/dispatch/logging-handler';
import { ZkContext, ZkHandler, ZkReply } from '../../../../zkproxy/dispatch/zk-handler';
import { ZkLogFn, ZkLogger } from '../../../../zkproxy/logger';
import { TRACE_CLIENT_PING, TraceMask } from '../../../../zkproxy/trace-mask';

function logger(debug: boolean): { log: ZkLogger; records: [string, Record<string, unknown>][] } {
  const records: [string, Record<string, unknown>][] = [];
  const at = (level: string): ZkLogFn => ((fields: object | string) => void records.push([level, fields as Record<string, unknown>])) as ZkLogFn;
  const log: ZkLogger = {
    trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal'),
    child: () => log,
    isLevelEnabled: (level) => level !== 'debug' || debug,
  };
  return { log, records };
}

/** A handler whose getData answers `reply`. */
function answering(reply: ZkReply): ZkHandler {
  return { getData: async () => reply } as unknown as ZkHandler;
}

const ctx = { session: { id: 0x1234n } } as unknown as ZkContext;
const req = { op: 'getData' as const, path: '/a', watch: false };

test('debug records only when debug is on; failures of ours always warn', async () => {
  const ok: ZkReply = { err: ZkErr.OK, zxid: 7 };
  const quiet = logger(false);
  assert.equal(await withLogging(answering(ok), quiet.log).getData(ctx, req), ok);
  assert.deepEqual(quiet.records, [], 'no record at info level');

  const loud = logger(true);
  await withLogging(answering(ok), loud.log).getData(ctx, req);
  assert.equal(loud.records.length, 1);
  assert.equal(loud.records[0]![0], 'debug');
  assert.deepEqual({ ...loud.records[0]![1], ms: 0 }, { op: 'getData', session: '1234', path: '/a', err: 'OK', zxid: 7, ms: 0 });

  const broken: ZkReply = { err: ZkErr.SYSTEMERROR, zxid: 7 };
  const failed = logger(false);
  assert.equal(await withLogging(answering(broken), failed.log).getData(ctx, req), broken);
  assert.equal(failed.records.length, 1);
  assert.equal(failed.records[0]![0], 'warn');
  assert.equal(failed.records[0]![1].err, 'SYSTEMERROR');
});

test('the trace mask picks which requests get a record: pings only with CLIENT_PING, set at run time', async () => {
  const ok: ZkReply = { err: ZkErr.OK, zxid: 7 };
  const handler = { getData: async () => ok, ping: async () => ok } as unknown as ZkHandler;
  const loud = logger(true);
  const mask = new TraceMask();
  const logged = withLogging(handler, loud.log, mask);
  await logged.ping(ctx, { op: 'ping' });
  await logged.getData(ctx, req);
  assert.deepEqual(loud.records.map(([, f]) => f.op), ['getData'], 'the default mask (306) leaves pings out');
  mask.set(mask.value | TRACE_CLIENT_PING);
  await logged.ping(ctx, { op: 'ping' });
  mask.set(0n);
  await logged.getData(ctx, req);
  assert.deepEqual(loud.records.map(([, f]) => f.op), ['getData', 'ping'], 'pings once asked for; nothing with mask 0');
  const broken: ZkReply = { err: ZkErr.SYSTEMERROR, zxid: 7 };
  await withLogging(answering(broken), loud.log, mask).getData(ctx, req);
  assert.equal(loud.records.at(-1)![0], 'warn', 'our failures are logged whatever the mask');
});
