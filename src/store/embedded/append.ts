import { open, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { NedbDatastore } from './nedb.js';

const require = createRequire(import.meta.url);
const model = require('@seald-io/nedb/lib/model.js') as { serialize(doc: unknown): string };

/** How long a datastore's file stays open after its last write. */
const IDLE_CLOSE_MS = 2000;

interface Persistence {
  filename: string;
  inMemoryOnly: boolean;
  modes: { fileMode: number };
  afterSerialization(line: string): string | Promise<string>;
  persistNewStateAsync(docs: unknown[]): Promise<void>;
  persistCachedDatabaseAsync(): Promise<void>;
}

/**
 * nedb appends every insert, update and removal with `fs.promises.appendFile`: open, write and
 * close, three trips to the thread pool per record. The CPU profile of the webhook benchmark
 * showed the open and close alone as the largest single item (~20% of busy time, ~34 appends per
 * webhook). This keeps the file open in append mode between writes instead.
 *
 * Same durability: the bytes reach the same file through the same write(2) before nedb
 * acknowledges the operation (neither fsyncs). nedb runs a datastore's operations one at a time,
 * and compaction (which replaces the file by a rename) is one of them, so the handle is closed
 * before a compaction and opened again for the next append. An idle file is closed after
 * IDLE_CLOSE_MS, so a store that is never closed holds no descriptor.
 */
export class AppendFile {
  private handle?: Promise<FileHandle>;
  private idle?: NodeJS.Timeout;
  /** Every open, write and close of this file, in order (the idle close runs outside nedb's queue). */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly persistence: Persistence) {}

  static attach(db: NedbDatastore<Record<string, unknown>>): AppendFile {
    const persistence = (db as unknown as { persistence: Persistence }).persistence;
    const file = new AppendFile(persistence);
    const compact = persistence.persistCachedDatabaseAsync.bind(persistence);
    persistence.persistNewStateAsync = (docs) => file.append(docs);
    persistence.persistCachedDatabaseAsync = async () => {
      await file.close();
      await compact();
    };
    return file;
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.tail.then(op, op);
    this.tail = next.catch(() => undefined);
    return next;
  }

  async append(docs: unknown[]): Promise<void> {
    const p = this.persistence;
    if (p.inMemoryOnly || docs.length === 0) return;
    let text = '';
    for (const doc of docs) text += (await p.afterSerialization(model.serialize(doc))) + '\n';
    await this.serial(async () => {
      this.handle ??= open(p.filename, 'a', p.modes.fileMode);
      const handle = await this.handle.catch((err: unknown) => {
        this.handle = undefined;
        throw err;
      });
      await handle.appendFile(text, 'utf8');
    });
    clearTimeout(this.idle);
    // A failed close cannot lose a record (write(2) returned before), so it is only reported.
    this.idle = setTimeout(
      () =>
        void this.close().catch((err: unknown) =>
          process.emitWarning(`closing ${p.filename}: ${String(err)}`),
        ),
      IDLE_CLOSE_MS,
    );
    this.idle.unref();
  }

  /** Closes the file (after the writes queued before this call); the next append opens it again. */
  close(): Promise<void> {
    clearTimeout(this.idle);
    return this.serial(async () => {
      const handle = this.handle;
      this.handle = undefined;
      if (handle) await (await handle).close();
    });
  }
}
