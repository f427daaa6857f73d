import type { Services } from '../service/index.js';
import type { ClaimRecord, Collection, Filter, SortSpec, StoredRecord } from '../store/index.js';
import { deadLeases, LEASE_PREFIX } from './leases.js';
import { deleteResult, resultRefOf } from './results.js';

export const RETENTION_JOB = 'scale.retention';

/** st2's completed statuses: only these executions are ever collected. */
const DONE = ['succeeded', 'failed', 'timeout', 'canceled', 'abandoned'];
const DAY_MS = 86_400_000;

export type RetentionReport = Record<string, number>;

const cutoff = (days: number, now: number) => new Date(now - days * DAY_MS).toISOString();

/**
 * How long a claim outlives the work it guarded. Once that work is finished no one needs the
 * claim but a racer still in flight (a redelivered job, a second process handling the same
 * event, seconds behind), which must still lose it; minutes are plenty.
 */
export const FINISHED_CLAIMS_KEEP_MS = 10 * 60_000;

/** Claims of work done once and marked done (store/claims.ts doOnce). */
const DONE_ONCE_PREFIXES = ['retry:', 'chatops:notify:', 'inquiries:chat:'];
/** Claims about one execution (`<prefix><execution id>:…`): its runs, its completion, its repairs. */
const EXECUTION_PREFIXES = ['execution:', 'recover:', 'requeue:'];
/** The subject of a claim `<family>:<id>:…`. */
const subjectOf = (claim: ClaimRecord) => claim.id.split(':')[1];

/**
 * st2's garbage collector: deletes records older than their `retention.*_days` (0 = keep
 * forever), and the oldest completed executions beyond `retention.executions_max_count`, in batches of `retention.batch_size` with `retention.batch_pause_ms`
 * between them, so a collection of millions never holds the database for long.
 */
export class Retention {
  constructor(private readonly services: Services) {}

  private get opts() {
    return this.services.config.retention;
  }

  /** One full pass; returns how many records of each kind it deleted. */
  async collect(now = Date.now()): Promise<RetentionReport> {
    const o = this.opts;
    const { store } = this.services;
    const report: RetentionReport = {};
    const withTheirRecords = async (rows: StoredRecord[]) => {
      const ids = rows.map((r) => r.id);
      report.execution_output =
        (report.execution_output ?? 0) +
        (await store.executionOutput.deleteMany({ execution_id: { $in: ids } }));
      report.workflow_states =
        (report.workflow_states ?? 0) + (await store.workflows.deleteMany({ execution_id: { $in: ids } }));
      // The action trigger's instance is stored under its execution's id and read from its record
      // (src/triggers/action-trigger.ts): it goes with it.
      report.trigger_instances =
        (report.trigger_instances ?? 0) + (await store.triggerInstances.deleteMany({ id: { $in: ids } }));
      for (const row of rows) {
        // A workflow's spec and task records, stored apart under its id (src/workflows/engine/stored.ts).
        report.workflow_states += await store.workflows.deleteMany({
          id: { $gt: `${row.id}/`, $lt: `${row.id}0` },
        });
        const ref = resultRefOf((row as { result?: unknown }).result);
        if (ref) await deleteResult(this.services, ref);
      }
    };
    const executionFields = { projection: { id: 1, result: 1 } as never };
    if (o.executions_days > 0) {
      report.executions = await this.batches(
        store.executions,
        { status: { $in: DONE }, end_timestamp: { $lt: cutoff(o.executions_days, now) } },
        withTheirRecords,
        executionFields,
      );
    }
    if (o.executions_max_count > 0) {
      const excess = (await store.executions.count({ status: { $in: DONE } })) - o.executions_max_count;
      if (excess > 0) {
        report.executions =
          (report.executions ?? 0) +
          (await this.batches(store.executions, { status: { $in: DONE } }, withTheirRecords, {
            ...executionFields,
            sort: { start_timestamp: 1 },
            max: excess,
          }));
      }
    }
    if (o.execution_output_days > 0) {
      report.execution_output =
        (report.execution_output ?? 0) +
        (await this.batches(store.executionOutput, {
          timestamp: { $lt: cutoff(o.execution_output_days, now) },
        }));
    }
    if (o.trigger_instances_days > 0)
      report.trigger_instances =
        (report.trigger_instances ?? 0) +
        (await this.batches(store.triggerInstances, {
          occurrence_time: { $lt: cutoff(o.trigger_instances_days, now) },
        }));
    if (o.rule_enforcements_days > 0)
      report.rule_enforcements = await this.batches(store.ruleEnforcements, {
        enforced_at: { $lt: cutoff(o.rule_enforcements_days, now) },
      });
    if (o.traces_days > 0) {
      report.traces = await this.batches(store.traces, {
        start_timestamp: { $lt: cutoff(o.traces_days, now) },
      });
      await this.batches(store.traceComponents, { start_timestamp: { $lt: cutoff(o.traces_days, now) } });
    }
    if (o.tokens_days > 0)
      report.tokens = await this.batches(store.tokens, { expiry: { $lt: cutoff(o.tokens_days, now) } });
    if (o.inquiries_days > 0) {
      // Inquiry records have no common timestamp field; their ids are time-ordered (newId).
      report.inquiries = await this.batches(store.inquiries, {
        status: { $ne: 'pending' },
        id: { $lt: idAt(now - o.inquiries_days * DAY_MS) },
      });
    }
    const claims = await this.collectClaims(now);
    if (claims > 0) report.claims = claims;
    const total = Object.values(report).reduce((a, b) => a + b, 0);
    if (total > 0) this.services.logger.info({ deleted: report }, 'retention: deleted old records');
    return report;
  }

  /**
   * Claims whose work is finished (a claim is taken per webhook delivery, rule enforcement, run
   * and completion, so they would otherwise grow with every event). Each family is collected
   * when what it guards can no longer happen twice without it; the rest (leases, concurrency
   * slots, inquiry decisions, timer ticks, which the timer engine collects) is left alone. Runs
   * whatever the history limits say: claims are bookkeeping, not history.
   */
  private async collectClaims(now: number): Promise<number> {
    const { store } = this.services;
    const finished = new Date(now - FINISHED_CLAIMS_KEEP_MS).toISOString();
    let deleted = 0;
    for (const prefix of DONE_ONCE_PREFIXES)
      deleted += await this.claimFamily(prefix, finished, async (rows) =>
        rows.filter((c) => c.done_at !== undefined && c.done_at < finished),
      );
    // An execution that left the live register is completed: a late run job finds it so and
    // does nothing, and its status no longer changes.
    for (const prefix of EXECUTION_PREFIXES)
      deleted += await this.claimFamily(prefix, finished, async (rows) => {
        const ids = [...new Set(rows.map(subjectOf))];
        const live = new Set(
          (await store.liveExecutions.find({ id: { $in: ids } }, { projection: { id: 1 } })).map((e) => e.id),
        );
        return rows.filter((c) => !live.has(subjectOf(c)));
      });
    // A rule's enforcement for an instance: once the instance left the pending register it is
    // processed, and the rules engine never processes it again.
    deleted += await this.claimFamily('rule_enforcement:', finished, async (rows) => {
      const ids = [...new Set(rows.map(subjectOf))];
      const pending = new Set(
        (await store.pendingInstances.find({ id: { $in: ids } }, { projection: { id: 1 } })).map((e) => e.id),
      );
      return rows.filter((c) => !pending.has(subjectOf(c)));
    });
    // A webhook delivery id dedupes (the first answer is given again) while its trigger
    // instances are kept; after that a redelivery is a new event anyway.
    const days = this.opts.trigger_instances_days;
    if (days > 0) deleted += await this.claimFamily('webhook:', cutoff(days, now), async (rows) => rows);
    // Leases whose owner died without giving them back: a group member's lease names the dead
    // worker, so nobody takes it over; a removed sensor's lease has nobody to take it. Deleted
    // once the owner has been silent for the lease ttl, each only as it was read: a process may
    // have broken and taken it meanwhile.
    const ttl = this.services.config.leases.ttl_ms;
    deleted += await this.claimFamily(
      LEASE_PREFIX,
      new Date(now - ttl).toISOString(),
      (rows) => deadLeases(store, rows, ttl),
      true,
    );
    return deleted;
  }

  /**
   * Deletes the claims under `prefix` taken before `before` that `collectable` picks, batch by
   * batch; `exact`: each only while it has the owner and time it was read with.
   */
  private async claimFamily(
    prefix: string,
    before: string,
    collectable: (rows: ClaimRecord[]) => Promise<ClaimRecord[]>,
    exact = false,
  ): Promise<number> {
    const { store } = this.services;
    const { batch_size: size, batch_pause_ms: pause } = this.opts;
    let after = prefix;
    let deleted = 0;
    for (;;) {
      // By id, so that claims kept (still needed) are not read again by the next batch.
      const rows = await store.claims.find(
        { id: { $gt: after, $lt: prefix + '\uffff' }, claimed_at: { $lt: before } },
        { limit: size, sort: { id: 1 } },
      );
      if (rows.length === 0) return deleted;
      // A breaking ticket (store/claims.ts) is its breaker's to remove.
      const picked = await collectable(rows.filter((c) => !c.id.includes('#breaking:')));
      if (exact)
        for (const c of picked)
          deleted += (await store.claims.deleteOne({ id: c.id, owner: c.owner, claimed_at: c.claimed_at }))
            ? 1
            : 0;
      else if (picked.length)
        deleted += await store.claims.deleteMany({ id: { $in: picked.map((c) => c.id) } });
      if (rows.length < size) return deleted;
      after = rows[rows.length - 1].id;
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    }
  }

  private async batches<T extends StoredRecord>(
    collection: Collection<T>,
    filter: Filter,
    before?: (rows: T[]) => Promise<void>,
    options: { projection?: Record<string, 0 | 1>; sort?: SortSpec; max?: number } = {
      projection: { id: 1 },
    },
  ): Promise<number> {
    const { batch_size: size, batch_pause_ms: pause } = this.opts;
    const max = options.max ?? Infinity;
    let deleted = 0;
    for (;;) {
      const limit = Math.min(size, max - deleted);
      if (limit <= 0) return deleted;
      const rows = await collection.find(filter, {
        limit,
        projection: options.projection,
        sort: options.sort,
      });
      if (rows.length === 0) return deleted;
      await before?.(rows);
      deleted += await collection.deleteMany({ id: { $in: rows.map((r) => r.id) } });
      if (rows.length < limit) return deleted;
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    }
  }
}

/** The smallest newId() made at `ms` (ids start with 8 hex digits of seconds, like ObjectIds). */
export function idAt(ms: number): string {
  return Math.floor(ms / 1000)
    .toString(16)
    .padStart(8, '0')
    .padEnd(24, '0');
}
