import type { ChatChoiceRecord, Store } from '../store/index.js';
import type { ChatStateStore } from './adapter.js';

/** Expired entries are swept at most this often (each put would otherwise be a second write). */
const SWEEP_EVERY_MS = 60_000;

/**
 * An adapter's button and form state (ChatStateStore) in the store, beside the pending choices of
 * ambiguous commands in `chat_choices`: id `state:<adapter>:<key>`, the value in the opaque
 * `message` field, no `refs`, and `expires_at` like a choice (swept with them). So a restart, or
 * another process connected to the same bot, still finds what a button or an open modal needs.
 */
export function chatStateStore(store: Pick<Store, 'chatChoices'>, adapter: string): ChatStateStore {
  const id = (key: string) => `state:${adapter}:${key}`;
  let swept = 0;
  const get = async (key: string): Promise<unknown> => {
    const found = await store.chatChoices.get(id(key));
    if (!found || found.adapter !== adapter || found.expires_at < new Date().toISOString()) return null;
    return (found.message as { state?: unknown } | null)?.state ?? null;
  };
  return {
    async put(key, value, ttlMs) {
      const now = Date.now();
      if (now - swept > SWEEP_EVERY_MS) {
        swept = now;
        await store.chatChoices.deleteMany({ expires_at: { $lt: new Date(now).toISOString() } });
      }
      await store.chatChoices.replace({
        id: id(key),
        adapter,
        message: { state: value } as unknown as ChatChoiceRecord['message'],
        refs: [],
        created_at: new Date(now).toISOString(),
        expires_at: new Date(now + ttlMs).toISOString(),
      });
    },
    get,
    async take(key) {
      const value = await get(key);
      if (value === null) return null;
      // Once: a second submit (a double click, another process) finds it gone.
      return (await store.chatChoices.deleteOne({ id: id(key) })) ? value : null;
    },
  };
}
