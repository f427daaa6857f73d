import type { EventBus, SquallEvent } from '../events/index.js';
import { SquallError } from '../errors.js';
import { warnThrottled, type Logger } from '../log/index.js';
import { newId } from '../ids.js';
import type { ContentCollectionKey, ContentFreshness, Store } from '../store/index.js';

/** Told to the other processes after a write to a content collection: they forget what they kept of it. */
export const CONTENT_CACHE_FORGET = 'squall.content_cache__forget';

export interface ContentCacheForget {
  collections: ContentCollectionKey[];
}

/**
 * The collections a forget announcement names, or undefined when it names none that can be read
 * (not what a Squall process sends: another version, or a peer on Redis): then any of them may have
 * changed, and a listener acts as for all of them.
 */
export function forgottenCollections(event: SquallEvent): ContentCollectionKey[] | undefined {
  const collections = (event.payload as Partial<ContentCacheForget> | null | undefined)?.collections;
  return Array.isArray(collections) && collections.every((c) => typeof c === 'string')
    ? collections
    : undefined;
}

/**
 * How often a process on MongoDB without Redis checks the content version marker before serving
 * cached content: a content change made through another process is seen within this time. Every
 * content lookup went to the store before (~16 whole-collection reads per webhook on FerretDB).
 */
export const CONTENT_CHECK_EVERY_MS = 250;

/**
 * Turns on the store's content cache. Alone on its embedded store a process hears of every write;
 * with the Redis bus, every process's writes are told to the others before they are acknowledged.
 * On MongoDB without Redis nothing tells it, so every content write also changes a version marker
 * in the store, and a process checks the marker (one read by id) at most every
 * CONTENT_CHECK_EVERY_MS before serving what it kept; its own writes it forgets at once.
 */
export function wireContentCache(store: Store, bus: EventBus, redis: boolean, logger: Logger) {
  const cache = store.contentCache;
  const malformed = warnThrottled(
    logger,
    'a content cache forget without a list of collections: everything cached forgotten',
  );
  bus.subscribe(CONTENT_CACHE_FORGET, (event) => {
    const collections = forgottenCollections(event);
    if (collections) {
      for (const c of collections) cache.invalidate(c);
      return;
    }
    // Not what a Squall process sends (another version, or a peer on Redis): which collections
    // changed is unknown, so everything kept is forgotten rather than served stale.
    cache.invalidate();
    // The origin is what the peer sent (any JSON): shown as JSON, cut short.
    const origin = String(JSON.stringify(event.origin)).slice(0, 200);
    malformed(
      new SquallError(
        'CONTENT_FORGET_MALFORMED',
        `a content cache forget from process ${origin} names no collections`,
        {
          event: event.name,
          origin,
        },
      ),
    );
  });
  if (store.kind === 'embedded' && !redis) {
    cache.enable();
    return { onLink: undefined };
  }
  if (!redis) {
    cache.enable(markerAnnouncer(store, logger), markerFreshness(store));
    return { onLink: undefined };
  }
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

const MARKER = 'content';
/** How long content writes are gathered into one marker write. */
const MARKER_GATHER_MS = 50;

/**
 * Every content write changes the marker: a new random version, so no change can go unseen. Not
 * awaited by the write: registering a pack is ~100 sequential content writes, and a marker write
 * for each was ~100 round trips of every start on FerretDB. Writes while one marker write is under
 * way, or within MARKER_GATHER_MS of each other, share one, so a burst of changes costs a few. The
 * others see a change within MARKER_GATHER_MS + CONTENT_CHECK_EVERY_MS of it.
 */
function markerAnnouncer(store: Store, logger: Logger) {
  let dirty = false;
  let writing = false;
  const drain = async () => {
    writing = true;
    try {
      while (dirty) {
        // Changes made meanwhile share this marker write (registering a pack makes ~100 in a row).
        await new Promise((resolve) => setTimeout(resolve, MARKER_GATHER_MS));
        dirty = false;
        try {
          await store.contentVersions.replace({ id: MARKER, version: newId() });
        } catch (err) {
          // Left dirty: the next content write tries again; until then the others keep what they read.
          dirty = true;
          logger.warn(
            { err },
            'content cache: the version marker could not be changed; other processes may serve old content until the next content write',
          );
          return;
        }
      }
    } finally {
      writing = false;
    }
  };
  return async () => {
    dirty = true;
    if (!writing) void drain();
  };
}

function markerFreshness(store: Store): ContentFreshness {
  let seen: unknown;
  return {
    everyMs: CONTENT_CHECK_EVERY_MS,
    async changed() {
      const version = (await store.contentVersions.get(MARKER))?.version ?? null;
      if (version === seen) return false;
      seen = version;
      return true;
    },
  };
}
