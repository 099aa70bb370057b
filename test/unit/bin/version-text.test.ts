/**
 * `coracle --version` prints the package's version and the versions each kind of client is
 * shown, one `Name: value` per line, and exits 0 without starting anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CORACLE_BIN } from '../../support/coracle-server';

test('coracle --version names its version, the etcd API and ZooKeeper versions it presents, and Node', () => {
  const r = spawnSync(process.execPath, [CORACLE_BIN, '--version'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  const rows = new Map(r.stdout.trim().split('\n').map((l) => l.split(': ') as [string, string]));
  assert.equal(rows.get('coracle Version'), version);
  assert.match(rows.get('etcd API Version') ?? '', /^3\.\d+\.\d+$/);
  assert.match(rows.get('ZooKeeper Version') ?? '', /^3\.8\.\d+-coracle-/);
  assert.equal(rows.get('Node Version'), process.version);
  assert.equal(r.stderr, '', 'nothing logged: no member started');
});
