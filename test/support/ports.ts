/**
 * Free TCP ports on 127.0.0.1, picked at run time so that tests never hard-code a port.
 *
 * A port handed out here is checked bindable (bind, read, close) and then reserved so that no
 * other caller in the same run gets it until it is released:
 * - within this process, by a set;
 * - across the test files that the runner executes in parallel, by a lock file
 *   `$TMPDIR/coracle-ports/<port>` holding the owner's pid (a lock whose owner is dead is taken over).
 *
 * Why not simply bind port 0: the kernel takes port-0 ports from the ephemeral range
 * (/proc/sys/net/ipv4/ip_local_port_range, 32768–60999 by default), the same range it uses for the
 * source port of every outgoing connection. Between our close() and the peer's bind(), any
 * client connection on the machine may take that port. So ports are drawn at random below the
 * ephemeral range, where only explicit binds land; port 0 is the fallback when that range is
 * unusable.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

/** Lowest port we draw from: above the well-known and most registered service ports. */
const LOW_PORT = 15000;
/** Attempts per port before giving up (each attempt is one bind). */
const ATTEMPTS_PER_PORT = 50;

const reservedHere = new Set<number>();
let exitHookInstalled = false;

function lockDir(): string {
  return path.join(os.tmpdir(), 'coracle-ports');
}

/** First port of the kernel's ephemeral range (the top of the range we draw from). */
function ephemeralLow(): number {
  try {
    const [low] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const n = Number(low);
    if (Number.isInteger(n) && n > 0) return n;
  } catch {
    // Not Linux: assume the IANA dynamic range.
  }
  return 49152;
}

/** Resolve with the port actually bound if `port` (0 = kernel's choice) can be bound on 127.0.0.1. */
function tryBind(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(undefined));
    srv.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const addr = srv.address();
      const bound = typeof addr === 'object' && addr ? addr.port : undefined;
      srv.close(() => resolve(bound));
    });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Take the cross-process lock for `port`; false if a live process holds it. */
function lockPort(port: number): boolean {
  const dir = lockDir();
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(fs.readFileSync(file, 'utf8'));
    } catch {
      // Removed meanwhile: retry the exclusive create.
    }
    if (Number.isInteger(owner) && owner > 0 && pidAlive(owner)) return false;
    // Stale lock of a dead process: remove and retry once. Two takers race on 'wx'; one wins.
    fs.rmSync(file, { force: true });
  }
  return false;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => releasePorts([...reservedHere]));
}

/**
 * Reserve `n` distinct free ports on 127.0.0.1. They stay reserved (never handed out again in
 * this run) until {@link releasePorts} or the end of this process.
 */
export async function freePorts(n: number): Promise<number[]> {
  installExitHook();
  const low = LOW_PORT;
  const high = ephemeralLow() - 1;
  const out: number[] = [];
  for (let attempt = 0; out.length < n && attempt < n * ATTEMPTS_PER_PORT; attempt++) {
    // Fall back to the kernel's choice for the last fifth of the attempts, or if our range is empty.
    const useZero = high <= low || attempt >= n * ATTEMPTS_PER_PORT * 0.8;
    const candidate = useZero ? 0 : low + Math.floor(Math.random() * (high - low + 1));
    if (candidate !== 0 && reservedHere.has(candidate)) continue;
    const bound = await tryBind(candidate);
    if (bound === undefined || reservedHere.has(bound)) continue;
    if (!lockPort(bound)) continue;
    reservedHere.add(bound);
    out.push(bound);
  }
  if (out.length < n) {
    releasePorts(out);
    throw new Error(`freePorts: found only ${out.length} of ${n} free ports on 127.0.0.1`);
  }
  return out;
}

/** Reserve one free port on 127.0.0.1; see {@link freePorts}. */
export async function freePort(): Promise<number> {
  const [p] = await freePorts(1);
  return p as number;
}

/** Give ports back (removes their locks). Ports not reserved by this process are ignored. */
export function releasePorts(ports: readonly number[]): void {
  for (const p of ports) {
    if (!reservedHere.delete(p)) continue;
    const file = path.join(lockDir(), String(p));
    try {
      if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.rmSync(file, { force: true });
    } catch {
      // Lock already gone.
    }
  }
}

const ADDRESS_IN_USE = /address already in use/i;

/**
 * Runs `start` up to `attempts` times while it fails with "address already in use": a port
 * chosen free can be taken by another process before the server binds it. Any other failure,
 * or the last one, is thrown.
 */
export async function retryOnPortRace<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts || !(err instanceof Error && ADDRESS_IN_USE.test(err.message))) throw err;
    }
  }
}
