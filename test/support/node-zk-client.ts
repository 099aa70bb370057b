/**
 * node-zookeeper-client (npm, a devDependency) for tests: a connected client, and its callback
 * API as promises. The package has no types; its client is `any` here.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const nodeZk = require('node-zookeeper-client') as any;

/** A node-zookeeper-client callback. */
export type NodeZkCallback<T> = (err: unknown, v: T) => void;

/** Calls `fn` with a callback; resolves with its value, rejects with its error. */
export function callNodeZk<T>(fn: (cb: NodeZkCallback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

/** A client of `connectString` (10 s session), resolved once connected; rejects after 10 s. */
export function connectNodeZk(connectString: string): Promise<any> {
  const c = nodeZk.createClient(connectString, { sessionTimeout: 10_000, spinDelay: 100, retries: 2 });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`node-zookeeper-client: no connection to ${connectString} within 10 s`)), 10_000);
    c.once('connected', () => {
      clearTimeout(t);
      resolve(c);
    });
    c.connect();
  });
}

/** Closes the session and resolves once the connection is down; rejects after 10 s. */
export function closeNodeZk(c: any): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('node-zookeeper-client: close not finished within 10 s')), 10_000);
    c.once('disconnected', () => {
      clearTimeout(t);
      resolve();
    });
    c.close();
  });
}
