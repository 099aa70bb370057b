/**
 * Normalising an HTTP/2 `:authority` that carries a URL instead of `host[:port]`.
 *
 * grpc-go (etcdctl 3.4's maintenance client among others) dials an endpoint given as
 * `http://host:port` with target `passthrough:///http://host:port` and sends that whole string
 * as `:authority`. grpc-go's server ignores `:authority`, so etcd answers; node:http2 (nghttp2
 * with HTTP messaging checks) resets any stream whose authority holds `/`. Reducing the value
 * to its authority part serves those clients as etcd does and changes nothing for valid values.
 */

const SLASH = 0x2f;

/**
 * For a value of the form `scheme://authority[/path][?query][#fragment]` (RFC 3986 scheme
 * syntax) with a non-empty authority, returns that authority; otherwise returns undefined
 * (the value needs no change, or is not a URL we can reduce and is left for the HTTP/2 layer to
 * judge as before).
 */
export function normalizeAuthority(value: Buffer): Buffer | undefined {
  if (value.indexOf(SLASH) < 0) return undefined;
  const afterScheme = schemeEnd(value);
  if (afterScheme < 0) return undefined;
  let end = afterScheme;
  while (end < value.length && !isAuthorityTerminator(value[end])) end++;
  if (end === afterScheme) return undefined;
  return value.subarray(afterScheme, end);
}

/** Offset just past `scheme://`, or -1 when `value` does not start with one. */
function schemeEnd(value: Buffer): number {
  if (value.length === 0 || !isAlpha(value[0])) return -1;
  let i = 1;
  while (i < value.length && isSchemeChar(value[i])) i++;
  if (value[i] !== 0x3a || value[i + 1] !== SLASH || value[i + 2] !== SLASH) return -1; // "://"
  return i + 3;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** ALPHA / DIGIT / "+" / "-" / "." (RFC 3986 §3.1). */
function isSchemeChar(c: number): boolean {
  return isAlpha(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e;
}

/** "/", "?" or "#": where the authority of a URL ends (RFC 3986 §3.2). */
function isAuthorityTerminator(c: number): boolean {
  return c === SLASH || c === 0x3f || c === 0x23;
}
