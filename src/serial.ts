/**
 * Runs tasks one after another per key, in this process: callers of one key wait in memory (no
 * store polling) while other keys proceed. A failed task does not stop the ones queued after it;
 * its caller gets the error.
 */
export class SerialPerKey<K = string> {
  private readonly tails = new Map<K, Promise<unknown>>();

  run<T>(key: K, task: () => Promise<T>): Promise<T> {
    const next = (this.tails.get(key) ?? Promise.resolve()).then(task, task);
    const settled = next.catch(() => undefined);
    this.tails.set(key, settled);
    void settled.then(() => {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    });
    return next;
  }
}
