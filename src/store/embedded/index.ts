import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { AppendFile } from './append.js';
import { NedbDatastore } from './nedb.js';
import { COLLECTIONS, type CollectionKey } from '../collections.js';
import type { Collection, CollectionSpec, StoredRecord } from '../types.js';
import { EmbeddedCollection } from './collection.js';

type Doc = Record<string, unknown>;

/** How often nedb rewrites its append-only files to drop superseded lines. */
const COMPACTION_INTERVAL_MS = 10 * 60 * 1000;

export class EmbeddedDatabase {
  private readonly datastores = new Map<string, NedbDatastore<Doc>>();
  private readonly files = new Map<string, AppendFile>();

  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Opens (loading from disk) the datastore behind a collection. */
  async datastore(spec: CollectionSpec): Promise<NedbDatastore<Doc>> {
    const existing = this.datastores.get(spec.name);
    if (existing) return existing;
    const db = new NedbDatastore<Doc>({ filename: path.join(this.dir, `${spec.name}.db`), autoload: false });
    await db.loadDatabaseAsync();
    for (const index of spec.indexes) {
      const fields = Object.keys(index.fields);
      await db.ensureIndexAsync({
        fieldName: fields.length === 1 ? fields[0] : fields,
        unique: index.unique ?? false,
        sparse: index.sparse ?? false,
      });
    }
    db.setAutocompactionInterval(COMPACTION_INTERVAL_MS);
    this.files.set(spec.name, AppendFile.attach(db));
    this.datastores.set(spec.name, db);
    return db;
  }

  async collection<T extends StoredRecord>(spec: CollectionSpec): Promise<Collection<T>> {
    return new EmbeddedCollection<T>(spec, await this.datastore(spec));
  }

  async openAll(): Promise<Record<CollectionKey, Collection<StoredRecord>>> {
    const out = {} as Record<CollectionKey, Collection<StoredRecord>>;
    for (const [key, spec] of Object.entries(COLLECTIONS)) {
      out[key as CollectionKey] = await this.collection(spec as CollectionSpec);
    }
    return out;
  }

  async close(): Promise<void> {
    for (const [name, db] of this.datastores) {
      db.stopAutocompaction();
      // Queue a no-op behind pending writes so close() returns after they reached the file.
      await db.countAsync({ _id: '__flush__' });
      await this.files.get(name)?.close();
    }
    this.datastores.clear();
    this.files.clear();
  }
}
export { guardRanges } from './collection.js';
