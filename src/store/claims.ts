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
