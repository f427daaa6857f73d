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

/**
 * Work that one process does once for a claim key, taken over when its owner dies before it is
 * done. `run` gets the key without its prefix; it must be safe to repeat (a taker cannot know how
 * far a dead owner got): what it stores has ids derived from the key.
 */
export interface ClaimedWork {
  /** The claim keys of this work: `<prefix><subject>`. */
  prefix: string;
  /** `resumed`: taken over from a gone owner, which may have done part of it. */
  run(subject: string, how?: { resumed: boolean }): Promise<void>;
}

/** Marks the claim's work done: the claim stays, so a late caller still loses it, until collected. */
export async function finishClaim(store: Store, key: string, owner: string): Promise<void> {
  await store.claims.updateOne({ id: key, owner }, { $set: { done_at: new Date().toISOString() } });
}

/**
 * Claims `work` for `subject` and does it, unless another caller claimed it first; true when this
 * caller did it. A claim this owner took ahead (with the write that made the work owed) and has
 * not finished counts as its own. A failed run is done too (its error is the caller's to log):
 * only a process that dies between claiming and finishing leaves the claim open, for
 * resumeClaimedWork to take over.
 */
export async function doOnce(
  store: Store,
  work: ClaimedWork,
  subject: string,
  owner: string,
): Promise<boolean> {
  const key = work.prefix + subject;
  if (!(await store.claim(key, owner))) {
    const held = await store.claims.get(key);
    if (!held || held.owner !== owner || held.done_at) return false;
  }
  try {
    await work.run(subject);
  } finally {
    await finishClaim(store, key, owner);
  }
  return true;
}

export interface ResumeReport {
  /** Keys taken over from gone owners and done here. */
  resumed: string[];
  /** Keys taken over whose work failed here (logged by the caller). */
  failed: Array<{ key: string; err: unknown }>;
}

/**
 * Takes over the claims of `works` left open (claimed, never finished) by owners that are gone,
 * and does their work: one taker per claim (claimOrTakeOver). Claims younger than `ttlMs` are
 * skipped: their owner cannot be known dead yet.
 */
export async function resumeClaimedWork(
  store: Store,
  works: Iterable<ClaimedWork>,
  owner: string,
  ttlMs: number,
): Promise<ResumeReport> {
  const report: ResumeReport = { resumed: [], failed: [] };
  const before = new Date(Date.now() - ttlMs).toISOString();
  const family = (work: ClaimedWork) => ({ id: { $gte: work.prefix, $lt: work.prefix + '\uffff' } });
  const families = [...works];
  // On FerretDB any filter but `{_id}` reads the whole claims collection (every webhook delivery
  // id, every execution's claims): one read for all the families instead of one each.
  const together = store.mongo?.ferretdb
    ? await store.claims.find({ $or: families.map(family), done_at: { $exists: false } })
    : undefined;
  for (const work of families) {
    // By key only (an index range on both stores): a family holds its open claims and the
    // done ones of the last minutes (store retention collects them).
    const open = together
      ? together.filter((c) => c.id.startsWith(work.prefix))
      : await store.claims.find({ ...family(work), done_at: { $exists: false } });
    for (const claim of open) {
      if (claim.claimed_at >= before || claim.id.includes('#breaking:')) continue;
      const got = await claimOrTakeOver(store, claim.id, owner, { ttlMs });
      if (!got.claimed) continue;
      try {
        await work.run(claim.id.slice(work.prefix.length), { resumed: true });
        report.resumed.push(claim.id);
      } catch (err) {
        report.failed.push({ key: claim.id, err });
      } finally {
        await finishClaim(store, claim.id, owner);
      }
    }
  }
  return report;
}
