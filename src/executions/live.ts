import type { Services } from '../service/index.js';
import type { ExecutionRecord, LiveExecutionRecord, Store } from '../store/index.js';
import { COMPLETED_STATUSES, isCompleted } from './status.js';

/**
 * The register of executions that are not completed yet, with their status. The queue count,
 * crash recovery, the sweep and concurrency policies ask it "which executions are scheduled?"
 * instead of the executions collection, whose size is the whole history: FerretDB on SQLite
 * reads every document for such a query, and its cost grew with every execution ever run.
 *
 * An entry is written before the execution it names, and removed only once that execution is
 * completed, so every live execution has one. A process that dies between the two writes leaves
 * an entry one step behind (or naming nothing); `read()` repairs it from the execution itself.
 */
/** The claim that records that this database's open executions were entered. */
const BACKFILLED = 'live_executions:backfilled';
/** The claim that records that this database's delayed entries carry their action. */
const LABELLED = 'live_executions:actions';

export class LiveExecutions {
  constructor(private readonly store: Store) {}

  /** A new execution (of action `action`) enters the register (before it is stored). */
  async enter(id: string, status: string, action?: string): Promise<void> {
    await this.store.liveExecutions.replace({
      id,
      status,
      since: new Date().toISOString(),
      ...(action ? { action } : {}),
    });
  }

  /** The execution (of action `action`) moved to `status`: a completed one leaves the register. */
  async moved(id: string, status: string, action?: string): Promise<void> {
    if (isCompleted(status)) await this.store.liveExecutions.deleteOne({ id });
    else
      await this.store.liveExecutions.replace({
        id,
        status,
        since: new Date().toISOString(),
        ...(action ? { action } : {}),
      });
  }

  /** How many entries are in one of these statuses. */
  count(statuses: readonly string[]): Promise<number> {
    return this.store.liveExecutions.count({ status: { $in: [...statuses] } });
  }

  /** Entries in these statuses, oldest first; `before` keeps those in it since before that time. */
  entries(statuses: readonly string[], before?: string): Promise<LiveExecutionRecord[]> {
    return this.store.liveExecutions.find(
      { status: { $in: [...statuses] }, ...(before ? { since: { $lt: before } } : {}) },
      { sort: { since: 1 } },
    );
  }

  /**
   * Entries of delayed executions of this action, oldest first. An entry's action is only ever
   * its own execution's (each writer takes it from the execution), so the executions behind them
   * are of this action.
   */
  delayed(action: string): Promise<LiveExecutionRecord[]> {
    return this.store.liveExecutions.find({ status: 'delayed', action }, { sort: { since: 1 } });
  }

  /**
   * The executions behind these entries that really are in one of `statuses`, read one by one
   * by id. An entry that is behind its execution is corrected; one whose execution is completed,
   * or was never stored (its creator died) and is older than `orphanAfterMs`, is removed.
   */
  async read(
    entries: LiveExecutionRecord[],
    statuses: readonly string[],
    orphanAfterMs = 60_000,
  ): Promise<ExecutionRecord[]> {
    const out: ExecutionRecord[] = [];
    for (const entry of entries) {
      const execution = await this.store.executions.get(entry.id);
      if (!execution) {
        if (Date.parse(entry.since) < Date.now() - orphanAfterMs)
          await this.store.liveExecutions.deleteOne({ id: entry.id, since: entry.since });
        continue;
      }
      if (execution.status !== entry.status) await this.repair(entry, execution);
      if (statuses.includes(execution.status)) out.push(execution);
    }
    return out;
  }

  /**
   * Brings an entry that is behind its execution up to it. Only the entry as it was read is
   * changed, never re-created: one moved again since (its writer keeps it right) or removed by the
   * execution's completion, even between our read and this write, is left as it is. A replace
   * here would bring back the entry of a completed execution, for good.
   */
  private async repair(entry: LiveExecutionRecord, execution: ExecutionRecord): Promise<void> {
    if (isCompleted(execution.status)) {
      await this.store.liveExecutions.deleteOne({ id: entry.id, since: entry.since });
      return;
    }
    await this.store.liveExecutions.updateOne(
      { id: entry.id, status: entry.status, since: entry.since },
      {
        $set: {
          status: execution.status,
          since: new Date().toISOString(),
          ...(execution.action?.ref ? { action: execution.action.ref } : {}),
        },
      },
    );
  }

  /**
   * Enters every stored execution that is not completed and has no entry: executions stored
   * before the register existed. One pass over the history, once per database (since then every
   * execution is entered before it is stored); processes starting later skip it.
   */
  backfill(): Promise<number> {
    return this.oncePerDatabase(
      BACKFILLED,
      () =>
        this.store.executions.find(
          { status: { $nin: [...COMPLETED_STATUSES] } },
          { projection: { id: 1, status: 1, action: 1 } },
        ),
      async (execution) => {
        if (await this.store.liveExecutions.get(execution.id)) return false;
        await this.store.liveExecutions.replace({
          id: execution.id,
          status: execution.status,
          since: new Date().toISOString(),
          ...(execution.action?.ref ? { action: execution.action.ref } : {}),
        });
        return true;
      },
    );
  }

  /**
   * Gives the delayed entries written before entries kept their action (`delayed(action)` finds
   * only those that have it) their execution's action. Once per database, like backfill().
   */
  labelDelayed(): Promise<number> {
    return this.oncePerDatabase(
      LABELLED,
      () => this.entries(['delayed']),
      async (entry) => {
        if (entry.action) return false;
        const execution = await this.store.executions.get(entry.id);
        if (!execution?.action?.ref) return false;
        // Only the entry as read: one moved or removed meanwhile is its writer's (as in repair()).
        const labelled = await this.store.liveExecutions.updateOne(
          { id: entry.id, since: entry.since, action: { $exists: false } },
          { $set: { action: execution.action.ref } },
        );
        return labelled !== null;
      },
    );
  }

  /**
   * One pass over `records`, once per database: skipped when `marker` is claimed, and claimed only
   * once the pass is done, so a process that dies half-way leaves it to the next start. Returns
   * how many records `visit` changed.
   */
  private async oncePerDatabase<T>(
    marker: string,
    records: () => Promise<T[]>,
    visit: (record: T) => Promise<boolean>,
  ): Promise<number> {
    if (await this.store.claims.get(marker)) return 0;
    let changed = 0;
    for (const record of await records()) if (await visit(record)) changed++;
    await this.store.claim(marker, 'live-executions');
    return changed;
  }
}

const registers = new WeakMap<Store, LiveExecutions>();

/** The register over this store. */
export function liveExecutions(services: Pick<Services, 'store'>): LiveExecutions {
  let live = registers.get(services.store);
  if (!live) {
    live = new LiveExecutions(services.store);
    registers.set(services.store, live);
  }
  return live;
}
