/**
 * The benchmarks' flag reader, through a real benchmark entry point: `--help` prints the usage
 * and exits 0, and a mistyped or malformed flag exits 2 with the reason, all before any server
 * starts (each case must end in well under the time a server takes to start).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';

const ZK_BENCH = path.resolve(__dirname, '../../../bench/zk-bench.js');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [ZK_BENCH, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--help prints the usage and exits 0 without starting a server', () => {
  const r = run('--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^usage: node dist\/bench\/zk-bench\.js .*--seconds 5/);
  assert.equal(r.stderr, '');
});

test('an unknown flag is refused with status 2 and the usage', () => {
  const r = run('--second', '3');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^unknown argument --second\n\nusage: /);
});

test('a flag without its value, or with a non-number, is refused', () => {
  const missing = run('--seconds');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^flag --seconds needs a value/);
  const nan = run('--conns', 'many');
  assert.equal(nan.code, 2);
  assert.match(nan.stderr, /^--conns must be a number, got "many"/);
});

test('zk-bench refuses a round count outside [1, 20] before starting a server', () => {
  for (const rounds of ['0', '1.5', '21']) {
    const r = run('--rounds', rounds);
    assert.equal(r.code, 1, `--rounds ${rounds}`);
    assert.match(r.stderr, /--rounds must be an integer in \[1, 20\]/);
  }
});
