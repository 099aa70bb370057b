/**
 * The native `zookeeper` npm package (a Node addon over Apache ZooKeeper's C client, which it
 * bundles and builds at install time) as the interop test uses it: loading it when its build
 * is present, the subset of its API the scenario calls, and bounded helpers around it.
 *
 * It is an optionalDependency (see README, "Dependencies"): when its install script cannot
 * build the addon, `npm ci` leaves it out instead of failing, and {@link loadNativeZookeeper}
 * says why it is missing.
 */

/** A znode Stat as the addon reports it (zxids and times as numbers, owner as a hex string). */
export interface NativeStat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: Date | number;
  mtime: Date | number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: string;
  dataLength: number;
  numChildren: number;
}

/** An ACL entry in the addon's shape (`auth` is the id). */
export interface NativeAcl {
  perms: number;
  scheme: string;
  auth: string;
}

/** A watcher callback: event type, keeper state, path. */
export type NativeWatcher = (type: number, state: number, path: string) => void;

/** The promise API of one client (`new ZooKeeper(config)`), as far as the test uses it. */
export interface NativeClient {
  native: { client_id: string };
  init(config: object): NativeClient;
  on_connected(): Promise<NativeClient>;
  close(): void;
  create(path: string, data: string | Buffer, flags: number, ttl?: number): Promise<string>;
  exists(path: string, watch: boolean): Promise<NativeStat>;
  w_exists(path: string, watcher: NativeWatcher): Promise<NativeStat>;
  get(path: string, watch: boolean): Promise<[NativeStat, Buffer]>;
  w_get(path: string, watcher: NativeWatcher): Promise<[NativeStat, Buffer]>;
  get_children(path: string, watch: boolean): Promise<string[]>;
  w_get_children(path: string, watcher: NativeWatcher): Promise<string[]>;
  get_children2(path: string, watch: boolean): Promise<[string[], NativeStat]>;
  /** `version` -1 means any (the package's README says null, but null is sent as 0). */
  set(path: string, data: string | Buffer, version: number): Promise<NativeStat>;
  delete_(path: string, version: number): Promise<void>;
  get_acl(path: string): Promise<[NativeAcl[], NativeStat]>;
  set_acl(path: string, version: number, acl: NativeAcl[]): Promise<void>;
  add_auth(scheme: string, auth: string, cb: (rc: number, error: string) => void): void;
  sync(path: string): Promise<string>;
  getconfig(watch: boolean): Promise<[NativeStat, Buffer]>;
  reconfig(joining: string | null, leaving: string | null, members: string | null, configVersion: number): Promise<unknown>;
}

/** The module's default export: the client class plus its constants. */
export interface NativeZookeeperModule {
  new (config: object): NativeClient;
  constants: Record<string, number>;
}

/** The loaded module, or why it could not be loaded. */
export type NativeLoad = { module: NativeZookeeperModule } | { missing: string };

/**
 * Loads `zookeeper` from node_modules. It fails when npm left the optional package out (the
 * addon did not build) or when the package is there without its compiled addon.
 */
export function loadNativeZookeeper(): NativeLoad {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { module: require('zookeeper') as NativeZookeeperModule };
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    return { missing: `the optional npm package 'zookeeper' is not installed or its addon is not built (${why}); run npm ci with a C compiler, make and python3` };
  }
}

/** Rejects with `what` if `p` does not settle within `ms`. */
export function within<T>(what: string, p: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Connects a client (ERROR-level C client log), bounded by 10 s. */
export async function connectNative(zk: NativeZookeeperModule, connect: string): Promise<NativeClient> {
  const client = new zk({
    connect,
    timeout: 10_000,
    debug_level: zk.constants.ZOO_LOG_LEVEL_ERROR,
    host_order_deterministic: true,
  });
  const connected = client.on_connected();
  client.init({});
  return within(`connect to ${connect}`, connected);
}

/** The error code of a rejected call (the addon rejects with "<rc> <text>" or "... <NAME> <rc>"). */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await within('call', p);
    return 'ok';
  } catch (err) {
    const m = /(-\d+)/.exec((err as Error).message);
    return m ? m[1]! : `unexpected error: ${(err as Error).message}`;
  }
}

/** Watch events as they arrive, read one at a time with a bound. */
export class EventLog {
  private readonly events: string[] = [];
  private waiter: (() => void) | undefined;

  /** The watcher to hand to `w_*` calls; each event is recorded as "type state path". */
  readonly watcher: NativeWatcher = (type, state, path) => {
    this.events.push(`${type} ${state} ${path}`);
    this.waiter?.();
  };

  /** The next event, or "none" after `ms`. */
  async next(ms = 5000): Promise<string> {
    const deadline = Date.now() + ms;
    while (this.events.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) return 'none';
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.waiter = undefined;
    }
    return this.events.shift()!;
  }
}
