/**
 * Run a Python snippet with kazoo (Debian's python3-kazoo 2.8) against a ZooKeeper-protocol
 * server: real ZooKeeper or Coracle. Always `/usr/bin/python3`: a `python3` earlier on PATH
 * may be another interpreter without kazoo (DESIGN §8).
 *
 * The snippet runs with these names bound: `zk` (a started `KazooClient`, unless
 * `connect: false`), `hosts`, `KazooClient`, `args` (from {@link KazooOptions.args}); it sets
 * `result` to what it wants returned. `result` is converted to JSON: namedtuples such as
 * `ZnodeStat` become objects (`czxid`, `mzxid`, `ctime`, `mtime`, `version`, `cversion`,
 * `aversion`, `ephemeralOwner`, `dataLength`, `numChildren`, `pzxid`), bytes become a UTF-8
 * string (or `{ base64 }` when not UTF-8), and integers beyond ±(2^53−1) (session ids,
 * ephemeralOwner) become decimal strings. The client is stopped and closed after the snippet,
 * so its ephemerals go at once.
 *
 * kazoo 2.8 never re-sends watches (SetWatches) after a reconnect; the Java client and
 * node-zookeeper-client do (DESIGN §8).
 *
 * @example
 *   const r = await kazoo<{ data: string }>(zk.connectString, `
 *   zk.create('/a', b'x')
 *   data, stat = zk.get('/a')
 *   result = {'data': data, 'stat': stat}
 *   `);
 */
import { SYSTEM_PYTHON } from './peers';
import { runCommand } from './run-command';

/** Options for {@link kazoo}. */
export interface KazooOptions {
  /** Hard limit on the Python process (default 30 s). */
  timeoutMs?: number;
  /** kazoo session timeout (default 10 s, kazoo's default). */
  sessionTimeoutMs?: number;
  /** Start `zk` before the snippet (default true). */
  connect?: boolean;
  /** JSON-able value bound to `args` in the snippet. */
  args?: unknown;
}

/** The snippet raised: `pythonError` is the exception class name (e.g. `NoNodeError`). */
export class KazooError extends Error {
  constructor(
    readonly pythonError: string,
    readonly pythonMessage: string,
    readonly traceback: string,
  ) {
    super(`kazoo snippet raised ${pythonError}: ${pythonMessage}\n${traceback}`);
    this.name = 'KazooError';
  }
}

const MARKER = '__CORACLE_KAZOO_RESULT__';

/** The Python side: reads {hosts, snippet, …} as JSON on stdin, prints MARKER + JSON outcome. */
const RUNNER = `
import base64, json, logging, sys, traceback
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
from kazoo.client import KazooClient
MAX_SAFE = 2**53 - 1
def jsonable(o):
    if o is None or isinstance(o, (bool, str, float)):
        return o
    if isinstance(o, int):
        return o if -MAX_SAFE <= o <= MAX_SAFE else str(o)
    if isinstance(o, (bytes, bytearray)):
        try:
            return bytes(o).decode('utf-8')
        except UnicodeDecodeError:
            return {'base64': base64.b64encode(bytes(o)).decode('ascii')}
    if hasattr(o, '_asdict'):
        return {k: jsonable(v) for k, v in o._asdict().items()}
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in o]
    return repr(o)
req = json.loads(sys.stdin.read())
zk = KazooClient(hosts=req['hosts'], timeout=req['sessionTimeout'])
try:
    if req['connect']:
        zk.start(timeout=req['sessionTimeout'])
    ns = {'zk': zk, 'hosts': req['hosts'], 'KazooClient': KazooClient, 'args': req['args'], 'result': None}
    exec(compile(req['snippet'], '<kazoo-snippet>', 'exec'), ns)
    out = {'ok': True, 'result': jsonable(ns.get('result'))}
except Exception as e:
    out = {'ok': False, 'error': type(e).__name__, 'message': str(e), 'traceback': traceback.format_exc()}
finally:
    try:
        zk.stop()
        zk.close()
    except Exception:
        pass
sys.stdout.write('\\n${MARKER}' + json.dumps(out) + '\\n')
sys.stdout.flush()
`;

/** Strip the common leading indentation of a template-literal snippet (Python is indent-sensitive). */
export function dedent(src: string): string {
  const lines = src.replace(/^\n/, '').split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join('\n');
}

/**
 * Snippet lines (for {@link kazoo}, with a KazooClient `c` not yet started) that start `c` and
 * wait, 15 s at most, for its connection loop to log "AUTH_FAILED closing". kazoo reports
 * "connected" before its SASL exchange ends, so whether a first read raises AuthFailedError or
 * something else is a race between its threads; how the loop classifies the failure is not: it
 * logs that line and stops instead of reconnecting. `result` gets `authFailed` and the number of
 * connection `attempts`.
 */
export const AWAIT_KAZOO_AUTH_FAILURE = dedent(`
  import logging, time
  lines = []
  class Keep(logging.Handler):
      def emit(self, record):
          lines.append(record.getMessage())
  log = logging.getLogger('kazoo.client')
  log.addHandler(Keep())
  log.setLevel(logging.INFO)
  c.start_async()
  deadline = time.time() + 15
  while not any(l.startswith('AUTH_FAILED closing') for l in lines) and time.time() < deadline:
      time.sleep(0.05)
  result = {
      'authFailed': any(l.startswith('AUTH_FAILED closing') for l in lines),
      'attempts': sum(1 for l in lines if l.startswith('Connecting to')),
  }
`);

/** `snippet` run in a `try` whose `finally` stops and closes the client `c`. */
export function closingClient(snippet: string): string {
  return `try:\n${snippet.split('\n').map((l) => `    ${l}`).join('\n')}\nfinally:\n    c.stop()\n    c.close()\n`;
}

/**
 * Run `snippet` with a kazoo client connected to `hosts` (`host:port[,…]`) and return its
 * `result`. Throws {@link KazooError} if the snippet raised, or an Error (with stderr) if
 * Python failed or timed out.
 */
export async function kazoo<T = unknown>(hosts: string, snippet: string, opts: KazooOptions = {}): Promise<T> {
  const req = {
    hosts,
    snippet: dedent(snippet),
    sessionTimeout: (opts.sessionTimeoutMs ?? 10_000) / 1000,
    connect: opts.connect ?? true,
    args: opts.args ?? null,
  };
  const r = await runCommand(SYSTEM_PYTHON, ['-c', RUNNER], { timeoutMs: opts.timeoutMs ?? 30_000, input: JSON.stringify(req) });
  const at = r.stdout.lastIndexOf(MARKER);
  if (at < 0 || r.timedOut) {
    throw new Error(`kazoo runner failed (${r.timedOut ? 'timeout' : `exit ${r.code}`})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  const out = JSON.parse(r.stdout.slice(at + MARKER.length)) as
    | { ok: true; result: T }
    | { ok: false; error: string; message: string; traceback: string };
  if (!out.ok) throw new KazooError(out.error, out.message, out.traceback);
  return out.result;
}
