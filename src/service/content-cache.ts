import type { EventBus } from '../events/index.js';
import type { Logger } from '../log/index.js';
import type { ContentCollectionKey, Store } from '../store/index.js';

/** Told to the other processes after a write to a content collection: they forget what they kept of it. */
export const CONTENT_CACHE_FORGET = 'squall.content_cache__forget';

export interface ContentCacheForget {
  collections: ContentCollectionKey[];
}

/**
 * Turns on the store's content cache where this process hears of every write: alone on its
 * embedded store, or with the Redis bus when scaled out. On MongoDB without Redis another
 * process's write would never reach it, so every read goes to the store as before.
 */
export function wireContentCache(store: Store, bus: EventBus, redis: boolean, logger: Logger) {
  const cache = store.contentCache;
  bus.subscribe(CONTENT_CACHE_FORGET, (event) => {
    for (const c of (event.payload as ContentCacheForget).collections) cache.invalidate(c);
  });
  if (store.kind === 'embedded' && !redis) {
    cache.enable();
    return { onLink: undefined };
  }
  if (!redis) return { onLink: undefined };
  // Writes that land in the same turn of the event loop are told in one message.
  let batch: { collections: Set<ContentCollectionKey>; told: Promise<void> } | undefined;
  cache.enable((collection) => {
    if (!batch) {
      const next = { collections: new Set<ContentCollectionKey>(), told: Promise.resolve() };
      next.told = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        batch = undefined;
        return bus.announce<ContentCacheForget>(CONTENT_CACHE_FORGET, { collections: [...next.collections] });
      });
      batch = next;
    }
    batch.collections.add(collection);
    return batch.told;
  });
  return {
    /** While the Redis subscription is down, writes elsewhere go unheard: no cache until it is back. */
    onLink(up: boolean) {
      if (up) {
        cache.enable(cache.announcer);
        logger.info('Redis event bridge back: content cache on again');
      } else {
        cache.disable();
        logger.warn('Redis event bridge lost: content cache off until it is back');
      }
    },
  };
}
