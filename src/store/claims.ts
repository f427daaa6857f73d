import type { ClaimRecord } from './records.js';
import type { Store } from './index.js';

/** The worker id a claim's owner names (`<worker id>` or `<worker id>#<token>`). */
export function claimWorker(owner: string): string {
  return owner.split('#')[0];
}

/**
 * A claim is stale when the worker owning it has not heartbeaten in `workers` for `ttlMs` (before
 * its first heartbeat: since the claim was taken). `alive`, when given, lists workers known alive.
 */
export async function claimIsStale(
  store: Store,
  claim: ClaimRecord,
  ttlMs: number,
  alive?: Set<string>,
): Promise<boolean> {
  const worker = claimWorker(claim.owner);
  if (alive?.has(worker)) return false;
  const record = await store.workers.get(worker);
  const beat = Date.parse(String((record as { heartbeat_at?: string } | null)?.heartbeat_at ?? ''));
  const silentSince = Number.isNaN(beat) ? Date.parse(claim.claimed_at) : beat;
  return Number.isNaN(silentSince) || Date.now() - silentSince >= ttlMs;
}

/**
 * Removes `stale`, a claim whose owner is dead, so that its key can be claimed again; true when
 * this caller removed it. Of several processes breaking it at once only one proceeds: they race
 * for a ticket named after the stale claim, a unique insert, which every MongoDB wire server makes
 * atomic (a guarded delete is a read then a delete on FerretDB, so two breakers could both pass it
 * and one remove the other's new claim). A ticket left by a breaker that died is itself broken.
 */
export async function breakStaleClaim(
  store: Store,
  stale: ClaimRecord,
  breaker: string,
  ttlMs: number,
): Promise<boolean> {
  const ticket = `${stale.id}#breaking:${stale.owner}@${stale.claimed_at}`;
  if (!(await store.claim(ticket, breaker))) {
    const held = await store.claims.get(ticket);
    if (held && (await claimIsStale(store, held, ttlMs))) {
      await store.claims.deleteOne({ id: ticket, owner: held.owner });
    }
    return false;
  }
  try {
    return await store.claims.deleteOne({ id: stale.id, owner: stale.owner, claimed_at: stale.claimed_at });
  } finally {
    await store.claims.deleteOne({ id: ticket, owner: breaker });
  }
}

export interface TakeOverOptions {
  /** A worker silent this long is dead (config executions.dead_after_ms / leases.ttl_ms). */
  ttlMs: number;
  /**
   * Whether the owner of the held claim is gone. Default: its worker stopped heartbeating
   * (claimIsStale). Claims owned by something other than a worker (an execution holding a
   * concurrency slot) say here when their owner is gone.
   */
  ownerGone?: (held: ClaimRecord) => Promise<boolean>;
}

export type ClaimOutcome =
  | { claimed: true; /** The gone owner whose claim this caller broke and took. */ from?: string }
  | { claimed: false; holder: ClaimRecord | null };

/**
 * Store.claim, except that a claim held by an owner that is gone is broken (breakStaleClaim: a
 * one-time ticket, so that of several takers only one breaks it) and claimed again. Every
 * "exactly one process does X" claim needs this: a claim is taken before X is done, so an owner
 * killed in between would otherwise leave X undone for good. What a taker does must therefore
 * be safe to repeat (the gone owner may have done part of X): derive ids from the claim's key.
 */
export async function claimOrTakeOver(
  store: Store,
  key: string,
  owner: string,
  options: TakeOverOptions,
): Promise<ClaimOutcome> {
  if (await store.claim(key, owner)) return { claimed: true };
  const held = await store.claims.get(key);
  if (!held) {
    // Released in between: the unique insert decides again.
    if (await store.claim(key, owner)) return { claimed: true };
    return { claimed: false, holder: await store.claims.get(key) };
  }
  if (held.owner === owner) return { claimed: false, holder: held };
  const gone = options.ownerGone
    ? await options.ownerGone(held)
    : await claimIsStale(store, held, options.ttlMs);
  if (!gone) return { claimed: false, holder: held };
  await breakStaleClaim(store, held, owner, options.ttlMs);
  // Whoever broke it, the unique insert decides who holds it now.
  if (await store.claim(key, owner)) return { claimed: true, from: held.owner };
  return { claimed: false, holder: await store.claims.get(key) };
}
