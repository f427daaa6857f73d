import { AsyncLocalStorage } from 'node:async_hooks';

/** One `store.transaction()` scope; once it has ended, work it started writes as any other. */
export interface StoreGroup {
  active: boolean;
  /** What waits for the group's writes to be committed (events announcing them). */
  deferred: Array<() => void>;
}

/** The store group the current async context runs in (the embedded store's transaction scope). */
export const storeGroup = new AsyncLocalStorage<StoreGroup>();

/** The active group of this context, if any. */
export function activeGroup(): StoreGroup | undefined {
  const group = storeGroup.getStore();
  return group?.active ? group : undefined;
}

/**
 * Runs `fn` outside any store group. Work a group only sets off (an event's listeners, a job the
 * scheduler picks up) acknowledges its own writes: inside the group they would resolve before
 * they are committed.
 */
export function outsideStoreGroup<T>(fn: () => T): T {
  return storeGroup.exit(fn);
}

/**
 * Runs `fn` once the writes of the current store group are committed (at once outside a group):
 * an event announcing a record must not reach anyone before the record exists. What a listener
 * then sends out of the process waits for the store's sync() (on disk). If the group's writes
 * fail, `fn` never runs.
 */
export function whenDurable(fn: () => void): void {
  const group = activeGroup();
  if (group) group.deferred.push(fn);
  else fn();
}
