import type { Services } from '../service/index.js';
import type { Collection, Filter, SortSpec, StoredRecord } from '../store/index.js';
import { deleteResult, resultRefOf } from './results.js';

export const RETENTION_JOB = 'scale.retention';

/** st2's completed statuses: only these executions are ever collected. */
const DONE = ['succeeded', 'failed', 'timeout', 'canceled', 'abandoned'];
const DAY_MS = 86_400_000;

export type RetentionReport = Record<string, number>;

const cutoff = (days: number, now: number) => new Date(now - days * DAY_MS).toISOString();

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

  enabled(): boolean {
    const o = this.opts;
    return [
      o.executions_days,
      o.execution_output_days,
      o.trigger_instances_days,
      o.rule_enforcements_days,
      o.traces_days,
      o.tokens_days,
      o.inquiries_days,
      o.executions_max_count,
    ].some((d) => d > 0);
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
      for (const row of rows) {
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
      report.trigger_instances = await this.batches(store.triggerInstances, {
        occurrence_time: { $lt: cutoff(o.trigger_instances_days, now) },
      });
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
    const total = Object.values(report).reduce((a, b) => a + b, 0);
    if (total > 0) this.services.logger.info({ deleted: report }, 'retention: deleted old records');
    return report;
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
