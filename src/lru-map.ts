/**
 * A Map of at most `limit` entries that drops the least recently used: get() of a present key and
 * set() make that key the most recent. For this process's caches of what is derived from a text or
 * an id (parsed expressions and templates, compiled schemas and regexes, workflow definitions):
 * each trimmed a Map by insertion order by hand, so an entry read at every use went as soon as
 * `limit` others had come after it.
 */
export class LruMap<K, V> extends Map<K, V> {
  constructor(readonly limit: number) {
    super();
  }

  override get(key: K): V | undefined {
    const value = super.get(key);
    if (value === undefined && !super.has(key)) return undefined;
    super.delete(key);
    super.set(key, value as V);
    return value;
  }

  override set(key: K, value: V): this {
    super.delete(key);
    super.set(key, value);
    if (super.size > this.limit) super.delete(super.keys().next().value as K);
    return this;
  }
}
