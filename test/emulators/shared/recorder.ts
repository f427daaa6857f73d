/**
 * An append-only log that tests can wait on. Emulators record every request the bot makes (and
 * every message it posts) in one of these so a test can assert on what a user would have seen.
 */
export class Recorder<T> {
  readonly items: T[] = [];
  private waiters = new Set<{ predicate: (item: T) => boolean; resolve: (item: T) => void }>();

  constructor(private readonly what: string) {}

  push(item: T): void {
    this.items.push(item);
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate(item)) {
        this.waiters.delete(waiter);
        waiter.resolve(item);
      }
    }
  }

  /**
   * Resolves with the first recorded item (already recorded or still to come) that matches.
   * Rejects after `timeoutMs` with the recorded items in the message, so a failing test shows
   * what the bot did instead.
   */
  waitFor(predicate: (item: T) => boolean = () => true, timeoutMs = 5_000): Promise<T> {
    const existing = this.items.find(predicate);
    if (existing !== undefined) return Promise.resolve(existing);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (item: T) => {
          clearTimeout(timer);
          resolve(item);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for a matching ${this.what}; ` +
              `recorded ${this.items.length}: ${describeItems(this.items)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Waits for the next matching item recorded after this call (ignores earlier ones). */
  waitForNext(predicate: (item: T) => boolean = () => true, timeoutMs = 5_000): Promise<T> {
    const start = this.items.length;
    return this.waitFor((item) => this.items.indexOf(item) >= start && predicate(item), timeoutMs);
  }

  clear(): void {
    this.items.length = 0;
  }
}

function describeItems(items: unknown[]): string {
  const last = items.slice(-5).map((i) => {
    const text = JSON.stringify(i, (_k, v) => (Buffer.isBuffer(v) ? `<${v.length} bytes>` : v));
    return text && text.length > 300 ? `${text.slice(0, 300)}…` : text;
  });
  return last.length === 0 ? '(none)' : `${items.length > 5 ? '…, ' : ''}${last.join(', ')}`;
}

/**
 * What every chat emulator records of the bot's visible output, and the waits tests use on it.
 * Each emulator declares the recorders with its own item types and names.
 */
export abstract class ChatRecordings<Post, Update, Upload, Ephemeral> {
  abstract readonly posts: Recorder<Post>;
  abstract readonly updates: Recorder<Update>;
  abstract readonly uploads: Recorder<Upload>;
  abstract readonly ephemerals: Recorder<Ephemeral>;

  waitForPost(predicate: (p: Post) => boolean = () => true, timeoutMs = 5_000): Promise<Post> {
    return this.posts.waitFor(predicate, timeoutMs);
  }

  waitForUpdate(predicate: (u: Update) => boolean = () => true, timeoutMs = 5_000): Promise<Update> {
    return this.updates.waitFor(predicate, timeoutMs);
  }

  waitForUpload(predicate: (u: Upload) => boolean = () => true, timeoutMs = 5_000): Promise<Upload> {
    return this.uploads.waitFor(predicate, timeoutMs);
  }

  waitForEphemeral(predicate: (e: Ephemeral) => boolean = () => true, timeoutMs = 5_000): Promise<Ephemeral> {
    return this.ephemerals.waitFor(predicate, timeoutMs);
  }
}
