/**
 * Temporary directories for peers' and Coracle members' data. Each is created fresh under the
 * OS temp dir and removed by {@link removeTempDir}, or at process exit after the managed
 * processes that may write into it have been killed (see `registerExitCleanup`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { registerExitCleanup } from './process';

const dirs = new Set<string>();
let hooked = false;

function removeSync(dir: string): void {
  // Retries cover a just-killed process whose last writes are still landing (ENOTEMPTY).
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}

/** Create a fresh empty directory `$TMPDIR/<prefix>XXXXXX`, removed at exit if not before. */
export function createTempDir(prefix: string): string {
  if (!hooked) {
    hooked = true;
    registerExitCleanup(() => {
      for (const d of dirs) removeSync(d);
    });
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Remove a directory made by {@link createTempDir} (and everything in it). */
export function removeTempDir(dir: string): void {
  removeSync(dir);
  dirs.delete(dir);
}
