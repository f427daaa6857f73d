import { COMPLETED_STATUSES, FAILED_STATUSES } from '../executions/index.js';
import { QUEUED_STATUSES } from '../scale/index.js';
import type { Filter, Store } from '../store/index.js';
import { BUCKET_PREFIX, bucketStart, type StatsWindow } from './window.js';

/** How many entries the "top" lists hold. */
export const TOP = 5;

const isCompleted = (s: string) => (COMPLETED_STATUSES as readonly string[]).includes(s);
const isFailed = (s: string) => (FAILED_STATUSES as readonly string[]).includes(s);

/**
 * Top-level executions (as History lists them) started inside the window, plus what the caller may
 * see (RBAC's permission isolation).
 */
export function executionsIn(window: StatsWindow, visible: Filter = {}): Filter {
  return {
    parent: { $exists: false },
    start_timestamp: { $gte: window.since, $lt: window.until },
    ...visible,
  };
}

export interface ExecutionBucket {
  start: string;
  counts: Record<string, number>;
}

export interface ExecutionStats {
  range: string;
  bucket: string;
  since: string;
  until: string;
  total: number;
  by_status: Record<string, number>;
  completed: number;
  failed: number;
  /** failed / completed, null when nothing completed. */
  failure_rate: number | null;
  buckets: ExecutionBucket[];
}

/** Executions per bucket and status: one grouped query. */
export async function executionStats(
  store: Store,
  window: StatsWindow,
  visible?: Filter,
): Promise<ExecutionStats> {
  const rows = await store.executions.group(executionsIn(window, visible), {
    by: {
      bucket: { field: 'start_timestamp', prefix: BUCKET_PREFIX[window.bucket] },
      status: { field: 'status' },
    },
  });
  const buckets = new Map<string, Record<string, number>>(window.starts.map((s) => [s, {}]));
  const byStatus: Record<string, number> = {};
  for (const { key, count } of rows) {
    const status = String(key.status);
    byStatus[status] = (byStatus[status] ?? 0) + count;
    const counts = buckets.get(bucketStart(String(key.bucket), window.bucket));
    if (counts) counts[status] = (counts[status] ?? 0) + count;
  }
  const sum = (pick: (s: string) => boolean) =>
    Object.entries(byStatus).reduce((n, [s, c]) => n + (pick(s) ? c : 0), 0);
  const completed = sum(isCompleted);
  const failed = sum(isFailed);
  return {
    range: window.range,
    bucket: window.bucket,
    since: window.since,
    until: window.until,
    total: sum(() => true),
    by_status: byStatus,
    completed,
    failed,
    failure_rate: completed ? failed / completed : null,
    buckets: [...buckets].map(([start, counts]) => ({ start, counts })),
  };
}

export interface ActionFigure {
  action: string;
  count: number;
  failed: number;
  /** Mean elapsed seconds of its completed executions; null when none completed. */
  avg_seconds: number | null;
}

/** The most frequent and the slowest (mean duration of completed runs) actions in the window. */
export async function actionStats(
  store: Store,
  window: StatsWindow,
  visible?: Filter,
): Promise<{
  range: string;
  since: string;
  until: string;
  most_frequent: ActionFigure[];
  slowest: ActionFigure[];
}> {
  const rows = await store.executions.group(executionsIn(window, visible), {
    by: { action: { field: 'action.ref' }, status: { field: 'status' } },
    sum: { seconds: 'elapsed_seconds' },
  });
  const byAction = new Map<string, { count: number; failed: number; completed: number; seconds: number }>();
  for (const { key, count, sums } of rows) {
    const ref = String(key.action ?? '');
    const a = byAction.get(ref) ?? { count: 0, failed: 0, completed: 0, seconds: 0 };
    a.count += count;
    if (isFailed(String(key.status))) a.failed += count;
    if (isCompleted(String(key.status))) {
      a.completed += count;
      a.seconds += sums.seconds;
    }
    byAction.set(ref, a);
  }
  const figures = [...byAction].map(([action, a]) => ({
    action,
    count: a.count,
    failed: a.failed,
    avg_seconds: a.completed ? Math.round((a.seconds / a.completed) * 1000) / 1000 : null,
  }));
  const byName = (x: ActionFigure, y: ActionFigure) => x.action.localeCompare(y.action);
  return {
    range: window.range,
    since: window.since,
    until: window.until,
    most_frequent: [...figures].sort((x, y) => y.count - x.count || byName(x, y)).slice(0, TOP),
    slowest: figures
      .filter((f) => f.avg_seconds !== null)
      .sort((x, y) => (y.avg_seconds ?? 0) - (x.avg_seconds ?? 0) || byName(x, y))
      .slice(0, TOP),
  };
}

/** The rules enforced most often in the window (matched, whatever the action's outcome). */
export async function ruleStats(
  store: Store,
  window: StatsWindow,
): Promise<{
  range: string;
  since: string;
  until: string;
  total: number;
  most_fired: { rule: string; count: number; failed: number }[];
}> {
  const rows = await store.ruleEnforcements.group(
    { enforced_at: { $gte: window.since, $lt: window.until } },
    { by: { rule: { field: 'rule.ref' }, status: { field: 'status' } } },
  );
  const byRule = new Map<string, { count: number; failed: number }>();
  for (const { key, count } of rows) {
    const r = byRule.get(String(key.rule)) ?? { count: 0, failed: 0 };
    r.count += count;
    if (key.status === 'failed') r.failed += count;
    byRule.set(String(key.rule), r);
  }
  const fired = [...byRule].map(([rule, r]) => ({ rule, ...r }));
  return {
    range: window.range,
    since: window.since,
    until: window.until,
    total: fired.reduce((n, r) => n + r.count, 0),
    most_fired: fired.sort((x, y) => y.count - x.count || x.rule.localeCompare(y.rule)).slice(0, TOP),
  };
}

/** Work waiting: executions not completed yet, by status (the register), and pending inquiries. */
export async function queueStats(
  store: Store,
): Promise<{ depth: number; by_status: Record<string, number>; pending_inquiries: number }> {
  const [live, pending] = await Promise.all([
    store.liveExecutions.group({}, { by: { status: { field: 'status' } } }),
    store.inquiries.count({ status: 'pending' }),
  ]);
  const byStatus = Object.fromEntries(live.map((r) => [String(r.key.status), r.count]));
  return {
    depth: QUEUED_STATUSES.reduce((n, s) => n + (byStatus[s] ?? 0), 0),
    by_status: byStatus,
    pending_inquiries: pending,
  };
}
