import { idFor } from '../ids.js';
import type { Collection, StoredRecord } from './types.js';

/** A record's key and the id this version gives it (idAt, idAfter: derived from the key and a time). */
export interface KeyedId {
  key: string;
  id: string;
}

/** The id a key's record is stored under, and the record when one is. */
export interface StoredId<T> {
  id: string;
  record?: T;
}

/**
 * The stored id for each key: idFor(key), the id an older Squall gave it, when a record has that
 * one (a dead owner or first attempt of an older version stored it), else the id given. A record
 * found under either id comes with it, so a caller asking "is it stored already?" needs no second
 * read. All keys are looked up in one find, whatever their number.
 */
export async function storedIds<T extends StoredRecord>(
  collection: Collection<T>,
  keyed: readonly KeyedId[],
): Promise<Array<StoredId<T>>> {
  if (keyed.length === 0) return [];
  const legacy = keyed.map((k) => idFor(k.key));
  const found = new Map<string, T>();
  for (const record of await collection.find({
    id: { $in: [...new Set([...keyed.map((k) => k.id), ...legacy])] },
  }))
    found.set(record.id, record);
  return keyed.map((k, i) => {
    const older = found.get(legacy[i]);
    if (older) return { id: legacy[i], record: older };
    const record = found.get(k.id);
    return record ? { id: k.id, record } : { id: k.id };
  });
}
