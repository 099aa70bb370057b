/**
 * A deadline on a promise, with etcd's meaning: the request was not answered in time (the
 * `timeout` error, etcd's "request timed out"), though the work may still complete later.
 */
import { CoreError } from './core-error';

/**
 * Resolves or rejects as `p` does if it settles within `timeoutMs`; otherwise runs `cleanup`
 * (forget the waiter) and rejects with CoreError `timeout`.
 */
export function withTimeout<T>(p: Promise<T>, timeoutMs: number, cleanup: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new CoreError('timeout'));
    }, timeoutMs);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
