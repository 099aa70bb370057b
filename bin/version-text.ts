/**
 * `coracle --version`: what `etcd --version` prints, in its shape (one `Name: value` per line),
 * with the versions Coracle presents to each kind of client.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CLAIMED_VERSION } from '../core/server/http-routes';
import { REPORTED_VERSION } from '../zkproxy/net/four-letter-words';

/** The package's version from package.json (dist/bin → the repository root). */
function packageVersion(): string {
  const file = path.join(__dirname, '..', '..', 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The lines `coracle --version` prints. */
export function versionText(): string {
  return [
    `coracle Version: ${packageVersion()}`,
    `etcd API Version: ${CLAIMED_VERSION}`,
    `ZooKeeper Version: ${REPORTED_VERSION.split(',')[0]}`,
    `Node Version: ${process.version}`,
    `Node OS/Arch: ${process.platform}/${process.arch}`,
  ].join('\n');
}
