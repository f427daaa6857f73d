/** Counting a collection's reads by id, for tests asserting a path does not read a record twice. */

/** The ids `collection.get` reads while `work` runs (its `get` restored after). */
export async function readsDuring<T>(
  collection: { get(id: string): Promise<T | null> },
  work: () => Promise<unknown>,
): Promise<string[]> {
  const get = collection.get.bind(collection);
  const reads: string[] = [];
  collection.get = (id: string) => {
    reads.push(id);
    return get(id);
  };
  try {
    await work();
  } finally {
    collection.get = get;
  }
  return reads;
}
