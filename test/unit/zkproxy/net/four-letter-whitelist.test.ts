/** `--zk-4lw-commands-whitelist` (ZooKeeper's 4lw.commands.whitelist): parsing and its effect on the answers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENABLED_WORDS, FourLetterSource, answerFourLetterWord, parseFourLetterWhitelist } from '../../../../zkproxy/net/four-letter-words';
import { ServerStats } from '../../../../zkproxy/net/server-stats';
import { TraceMask } from '../../../../zkproxy/trace-mask';

function source(allowedWords: ReadonlySet<string>): FourLetterSource {
  return {
    allowedWords, traceMask: new TraceMask(), stats: new ServerStats(), connections: () => [], zxid: () => 7, nodeCount: () => 5,
    watchSummary: () => ({ watches: 0, paths: 0, connections: 0 }), watchCount: () => 0, ephemerals: () => 0, dataSize: () => 44,
    writeConflicts: () => 0, role: () => ({ mode: 'standalone', quorumSize: 1, learners: 0, syncedFollowers: 0, syncedNonVoting: 0 }), resetConnectionStats: () => {}, dataWatchesBySession: () => new Map(),
    sessionExpiries: () => [], ephemeralsBySession: () => new Map(), storage: () => undefined,
    config: () => ({ clientPort: 2181, secureClientPort: undefined, tickTime: 2000, minSessionTimeout: 4000, maxSessionTimeout: 40000, maxClientCnxns: 60 }),
  };
}

test('* allows every word we answer; a list allows only its words', () => {
  assert.equal(parseFourLetterWhitelist(' * '), ENABLED_WORDS);
  assert.deepEqual([...parseFourLetterWhitelist('ruok, mntr,,isro')].sort(), ['isro', 'mntr', 'ruok']);
  // Known to ZooKeeper but not answered here: accepted, and still off.
  assert.deepEqual([...parseFourLetterWhitelist('ruok,hash')], ['ruok']);
});

test('a name ZooKeeper does not know is an error naming the known ones', () => {
  assert.throws(() => parseFourLetterWhitelist('ruok,mntrr'), /unknown four-letter word\(s\) mntrr \(known: conf, .*mntr.*, or \* for all\)/);
});

test('a word left out gets ZooKeeper\'s whitelist answer; the listed ones work', () => {
  const src = source(parseFourLetterWhitelist('ruok,isro'));
  assert.equal(answerFourLetterWord('ruok', src), 'imok');
  assert.equal(answerFourLetterWord('isro', src), 'rw');
  assert.equal(answerFourLetterWord('mntr', src), 'mntr is not executed because it is not in the whitelist.\n');
  assert.equal(answerFourLetterWord('dump', src), 'dump is not executed because it is not in the whitelist.\n');
  assert.match(answerFourLetterWord('mntr', source(ENABLED_WORDS)), /^zk_version\t/);
});

test('gtmk prints the trace mask as a Java long; stmk sets it from its 8-byte argument and echoes it', () => {
  const src = source(ENABLED_WORDS);
  assert.equal(answerFourLetterWord('gtmk', src), '306', 'ZooTrace\'s initial mask');
  const arg = Buffer.alloc(8);
  arg.writeBigInt64BE(-2n);
  assert.equal(answerFourLetterWord('stmk', src, arg), '-2');
  assert.equal(answerFourLetterWord('gtmk', src), '-2');
  assert.equal(src.traceMask.value, -2n);
  const off = source(parseFourLetterWhitelist('gtmk'));
  assert.equal(answerFourLetterWord('stmk', off, arg), 'stmk is not executed because it is not in the whitelist.\n');
  assert.equal(off.traceMask.value, 306n, 'a refused stmk changes nothing');
});
