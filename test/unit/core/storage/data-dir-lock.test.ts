/**
 * DataDirLock: one holder at a time, released on release(), replaced when stale, and the same
 * for a directory whose path is too long for a socket file (Linux's abstract namespace).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { DataDirInUseError, DataDirLock, LOCK_FILE } from '../../../../core/storage/data-dir-lock';
import { createTempDir, removeTempDir } from '../../../support/temp-dir';

async function refused(dir: string): Promise<DataDirInUseError> {
  let caught: unknown;
  await DataDirLock.acquire(dir).then((l) => l.release(), (e: unknown) => (caught = e));
  assert.ok(caught instanceof DataDirInUseError, `expected a refusal, got ${String(caught)}`);
  return caught;
}

/** Holds `dir`'s lock, checks that a second taker is refused with our pid, releases, takes it again. */
async function assertExclusive(dir: string, held: DataDirLock): Promise<void> {
  assert.equal((await refused(dir)).pid, process.pid);
  await held.release();
  const again = await DataDirLock.acquire(dir);
  await again.release();
}

test('one holder at a time; the refusal names the holder; release frees the dir', async () => {
  const dir = createTempDir('lock-');
  try {
    const held = await DataDirLock.acquire(dir);
    assert.ok(statSync(path.join(dir, LOCK_FILE)).isSocket());
    assert.match((await refused(dir)).message, new RegExp(`data dir ${dir} is in use by another process \\(pid ${process.pid}\\)`));
    await assertExclusive(dir, held);
    assert.equal(existsSync(path.join(dir, LOCK_FILE)), false, 'released: the socket file is removed');
  } finally {
    removeTempDir(dir);
  }
});

test('a socket file nobody answers on (its process died) is stale and replaced', async () => {
  const dir = createTempDir('lock-');
  const file = path.join(dir, LOCK_FILE);
  try {
    // A socket file left bound but not listening: what a killed holder leaves.
    const r = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(file)}, () => process.kill(process.pid, 'SIGKILL'))`], { timeout: 10_000 });
    assert.equal(r.signal, 'SIGKILL');
    assert.ok(statSync(file).isSocket(), 'the dead holder left its socket file');
    await assertExclusive(dir, await DataDirLock.acquire(dir));
  } finally {
    removeTempDir(dir);
  }
});

test('a path too long for a socket file is locked all the same', async () => {
  const root = createTempDir('lock-');
  const dir = path.join(root, 'a-rather-long-directory-name-'.repeat(5));
  mkdirSync(dir);
  try {
    const held = await DataDirLock.acquire(dir);
    assert.equal(existsSync(path.join(dir, LOCK_FILE)), false, 'no socket file: the abstract namespace');
    await assertExclusive(dir, held);
  } finally {
    removeTempDir(root);
  }
});

test('a holder that answers without a pid still holds the dir', async () => {
  const dir = createTempDir('lock-');
  const file = path.join(dir, LOCK_FILE);
  const squatter = createServer((s) => s.end('not a pid'));
  await new Promise<void>((resolve) => squatter.listen(file, resolve));
  try {
    const e = await refused(dir);
    assert.equal(e.pid, undefined, 'an answer without a pid');
    assert.doesNotMatch(e.message, /pid/);
  } finally {
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
    removeTempDir(dir);
  }
});
