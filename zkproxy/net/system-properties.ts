/**
 * The AdminServer's `system_properties`: ZooKeeper answers its JVM's system properties. A
 * Node.js process has none, so Coracle answers the standard Java properties that name a fact of
 * this process (separators, OS, user, directories), under the names Java gives them, so a tool
 * that reads `os.name` or `user.dir` from either server finds it; `java.version` and
 * `java.vendor` say what runs instead, as `envi` does.
 */
import { EOL, homedir, release, tmpdir, userInfo } from 'node:os';
import { delimiter, sep } from 'node:path';
import { environmentRows } from './four-letter-words';

/** The properties, sorted by name (ZooKeeper puts them in a TreeMap). */
export function systemProperties(): [string, string][] {
  const shared = new Map(environmentRows());
  const rows: [string, string][] = [
    ['file.separator', sep], ['line.separator', EOL], ['path.separator', delimiter],
    ['java.io.tmpdir', tmpdir()], ['os.version', release()], ['user.home', user().homedir], ['user.name', user().username],
  ];
  for (const key of ['java.vendor', 'java.version', 'os.arch', 'os.name', 'user.dir']) rows.push([key, shared.get(key) ?? '']);
  return rows.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The user this process runs as, from the passwd entry as Java reads it (not $HOME); a uid
 * without one (some containers) falls back to the environment.
 */
function user(): { username: string; homedir: string } {
  try {
    return userInfo();
  } catch {
    return { username: process.env.USER ?? '', homedir: homedir() };
  }
}
