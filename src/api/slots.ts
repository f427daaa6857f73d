import { SquallError } from '../errors.js';

/** What to refuse with once a key (or the process) holds all its places. */
export interface SlotRefusal {
  code: string;
  /** The human message naming the limit's key; `held` is what the key (or process) already holds. */
  message: (key: string, held: number) => string;
}

/**
 * Places a key (a user, an HMAC-signed hook) may hold at once in this process, and optionally all
 * keys together: a request that holds a socket and a bus subscription while it lasts (an event
 * stream, a webhook waiting for its executions) takes one, and its release frees it. Past a bound
 * the claim throws a 429 (0: no bound). The release is idempotent.
 */
export function slotCounter(
  perKey: number,
  refusal: SlotRefusal,
  overall: { limit: number; refusal: SlotRefusal } = { limit: 0, refusal },
): (key: string) => () => void {
  const open = new Map<string, number>();
  let total = 0;
  return (key) => {
    const n = open.get(key) ?? 0;
    if (perKey > 0 && n >= perKey)
      throw new SquallError(refusal.code, refusal.message(key, n), { user: key, limit: perKey }, 429);
    if (overall.limit > 0 && total >= overall.limit)
      throw new SquallError(
        overall.refusal.code,
        overall.refusal.message(key, total),
        { user: key, limit: overall.limit },
        429,
      );
    open.set(key, n + 1);
    total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      total--;
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    };
  };
}
