/**
 * Directory fsync: creates, renames and unlinks in a directory are durable only once the
 * directory itself is synced (the WAL's segment files, snapshot installs and restores).
 */
import * as fs from 'node:fs';

/** fsyncs a directory so that creates, renames and unlinks in it are durable. */
export function syncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** {@link syncDir} off the event loop. */
export async function syncDirAsync(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
