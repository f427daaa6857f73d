/**
 * Leases: "this process, and no other, runs X" — a sensor, a chat connection — across every
 * process that shares the store.
 *
 * A lease is a claim (Store.claim, a unique insert: the only mutual exclusion FerretDB makes
 * atomic) whose owner is the holder's worker id. It has no timer of its own: it lives as long as
 * its owner keeps heartbeating in `workers` (src/executions/recovery.ts writes that heartbeat
 * every `executions.heartbeat_ms`). Once the owner has been silent for `ttlMs` any process may
 * break the claim and take it. A graceful stop releases at once.
 *
 * Groups ("every process with the sensors role") are leases too: a member holds
 * `<group>:member:<workerId>`, and the live members are those whose owners still heartbeat.
 */
import { SquallError } from '../errors.js';
import type { Logger } from '../log/index.js';
import { claimIsStale, claimOrTakeOver, type ClaimRecord, type Store } from '../store/index.js';

const PREFIX = 'lease:';
/** Every lease's claim id starts with this. */
export const LEASE_PREFIX = PREFIX;

export interface LeaseOptions {
  store: Store;
  /** This process's worker id, as the executions service heartbeats it in `workers`. */
  workerId: () => string;
  /** A lease whose owner has not heartbeaten for this long is free to take (config leases.ttl_ms). */
  ttlMs: number;
  /** How often the owner heartbeats (config executions.heartbeat_ms); the ttl must leave room for it. */
  heartbeatMs?: number;
  logger?: Logger;
}

export class Leases {
  constructor(private readonly options: LeaseOptions) {
    const beat = options.heartbeatMs ?? 0;
    if (options.ttlMs < 2 * beat)
      throw new SquallError(
        'LEASE_TTL_TOO_SHORT',
        `leases.ttl_ms (${options.ttlMs}) must be at least twice executions.heartbeat_ms (${beat}): a live holder would lose its leases between two heartbeats`,
        { ttl_ms: options.ttlMs, heartbeat_ms: beat },
        500,
      );
  }

  get owner(): string {
    return this.options.workerId();
  }

  /** The workers that heartbeated within the ttl (this one always counts). */
  async aliveWorkers(): Promise<Set<string>> {
    const since = new Date(Date.now() - this.options.ttlMs).toISOString();
    const workers = await this.options.store.workers.find(
      { heartbeat_at: { $gte: since } },
      { projection: { id: 1 } },
    );
    const alive = new Set(workers.map((w) => w.id));
    alive.add(this.owner);
    return alive;
  }

  /**
   * Takes the lease `name` for this process: true when it is ours now (also when it already was).
   * A lease held by a process that stopped heartbeating is broken and taken.
   */
  async acquire(name: string, alive?: Set<string>): Promise<boolean> {
    const got = await claimOrTakeOver(this.options.store, PREFIX + name, this.owner, {
      ttlMs: this.options.ttlMs,
      ownerGone: (held) => this.isStale(held, alive),
    });
    if (!got.claimed) return got.holder?.owner === this.owner;
    if (got.from)
      this.options.logger?.info(
        { lease: name, previous_owner: got.from },
        `took over lease ${name} from ${got.from} (silent for longer than ${this.options.ttlMs} ms)`,
      );
    return true;
  }

  /** Gives the lease back; only the owner's release has an effect. */
  async release(name: string): Promise<boolean> {
    return this.options.store.release(PREFIX + name, this.owner);
  }

  /** Who holds each of `names` now (absent: nobody). Stale holders are reported as they are. */
  async holders(names: string[]): Promise<Map<string, string>> {
    if (!names.length) return new Map();
    const claims = await this.options.store.claims.find({ id: { $in: names.map((n) => PREFIX + n) } });
    return new Map(claims.map((c) => [c.id.slice(PREFIX.length), c.owner]));
  }

  /** Of `names`, the leases this process holds. */
  async heldHere(names: string[]): Promise<Set<string>> {
    const holders = await this.holders(names);
    return new Set(names.filter((n) => holders.get(n) === this.owner));
  }

  /** Joins `group` (idempotent): other members count this process while it heartbeats. */
  async join(group: string): Promise<void> {
    await this.acquire(memberLease(group, this.owner));
  }

  async leave(group: string): Promise<void> {
    await this.release(memberLease(group, this.owner));
  }

  /** The live members of `group`, sorted; members that stopped heartbeating are removed. */
  async members(group: string, alive?: Set<string>): Promise<string[]> {
    const { store } = this.options;
    const living = alive ?? (await this.aliveWorkers());
    if (store.mongo?.ferretdb) {
      // A key range reads the whole claims collection on FerretDB (every webhook delivery id:
      // seconds late in a burst, every sensor sync): the live workers' member leases are read by
      // id instead. A dead member's lease is left, counting for nothing, until retention collects
      // it (deadLeases).
      const holders = await this.holders([...living].map((w) => memberLease(group, w)));
      return [...living].filter((w) => holders.get(memberLease(group, w)) === w).sort();
    }
    const prefix = PREFIX + memberLease(group, '');
    const claims = await store.claims.find({ id: { $gte: prefix, $lt: prefix + '\uffff' } });
    const out: string[] = [];
    for (const claim of claims) {
      if (living.has(claim.owner)) out.push(claim.owner);
      else if (await this.isStale(claim, living))
        await store.claims.deleteOne({ id: claim.id, owner: claim.owner });
    }
    return out.sort();
  }

  private isStale(claim: ClaimRecord, alive?: Set<string>): Promise<boolean> {
    return claimIsStale(this.options.store, claim, this.options.ttlMs, alive);
  }
}

function memberLease(group: string, workerId: string): string {
  return `${group}:member:${workerId}`;
}

/**
 * Of these lease claims, those whose owner stopped heartbeating `ttlMs` ago or more. A group
 * member's lease names its (dead) worker, so no process ever takes it back; a sensor's or chat
 * connection's lease is taken over while its sensor or connection exists, and left for good once
 * it is gone. Retention (retention.ts) deletes them.
 */
export async function deadLeases(store: Store, claims: ClaimRecord[], ttlMs: number): Promise<ClaimRecord[]> {
  const dead: ClaimRecord[] = [];
  for (const claim of claims)
    if (claim.id.startsWith(PREFIX) && (await claimIsStale(store, claim, ttlMs))) dead.push(claim);
  return dead;
}

/**
 * How many of `total` items one of `members` live processes should hold: an even split, rounded
 * up so that every item has a taker.
 */
export function fairShare(total: number, members: number): number {
  return Math.ceil(total / Math.max(1, members));
}
