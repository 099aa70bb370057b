/**
 * ZooKeeper path rules (PathUtils.validatePath; zk-protocol.md §2.9) and path arithmetic.
 * Validation works on UTF-16 code units, exactly like the Java original, with the character
 * ranges inclusive (zetcd used exclusive bounds: a known fault we do not repeat).
 */
import { ZK_MAX_DEPTH } from '../limits';

/** Why a path is invalid, or undefined when it is valid. */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'Path length must be > 0';
  if (path.charCodeAt(0) !== 0x2f) return 'Path must start with / character';
  if (path.length === 1) return undefined;
  if (path.charCodeAt(path.length - 1) === 0x2f) return 'Path must not end with / character';
  let last = 0x2f;
  for (let i = 1; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0) return `null character not allowed @${i}`;
    if (c === 0x2f && last === 0x2f) return `empty node name specified @${i}`;
    if (c === 0x2e && isDotSegment(path, i)) return `relative paths not allowed @${i}`;
    if ((c > 0 && c <= 0x1f) || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) {
      return `invalid character @${i}`;
    }
    last = c;
  }
  if (depth(path) > ZK_MAX_DEPTH) return `path deeper than ${ZK_MAX_DEPTH} levels`;
  return undefined;
}

/** True when the '.' at `i` ends a segment that is exactly "." or "..". */
function isDotSegment(path: string, i: number): boolean {
  const segEnd = i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f;
  if (!segEnd) return false;
  if (path.charCodeAt(i - 1) === 0x2f) return true;
  return path.charCodeAt(i - 1) === 0x2e && i >= 2 && path.charCodeAt(i - 2) === 0x2f;
}

/** True when `path` is a valid ZooKeeper path. */
export function isValidPath(path: string): boolean {
  return pathProblem(path) === undefined;
}

/** The parent of a non-root path ("/a" → "/", "/a/b" → "/a"). The root's parent is "/" too. */
export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** The last segment of a path ("/a/b" → "b"; "/" → ""). */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The child path of `parent` named `name`. */
export function childPath(parent: string, name: string): string {
  return parent === '/' ? `/${name}` : `${parent}/${name}`;
}

/** Number of segments: "/" → 0, "/a" → 1, "/a/b" → 2. */
export function depth(path: string): number {
  if (path === '/') return 0;
  let n = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 0x2f) n++;
  return n;
}

/** True for "/", "/zookeeper" and everything under "/zookeeper" reserved by the server. */
export function isSystemPath(path: string): boolean {
  return path === '/' || path === '/zookeeper' || path === '/zookeeper/quota' || path === '/zookeeper/config';
}

/** True when `path` equals `prefix` or lies under it. */
export function isUnder(path: string, prefix: string): boolean {
  if (prefix === '/') return true;
  return path === prefix || path.startsWith(prefix + '/');
}
