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
