import { newId } from '../../src/ids.js';
import type { ExecutionRecord, Store } from '../../src/store/index.js';

export interface SeedExecution {
  action: string;
  status: string;
  /** Minutes before `now` it started. */
  minutesAgo: number;
  elapsed?: number;
  user?: string;
  rule?: string;
  parent?: string;
}

/** A stored execution as the executions service writes one (enough for History and the stats). */
export function executionRecord(s: SeedExecution, now = Date.now()): ExecutionRecord {
  const [pack, name] = s.action.split('.');
  const start = new Date(now - s.minutesAgo * 60_000).toISOString();
  const done = !['requested', 'scheduled', 'delayed', 'running', 'pending'].includes(s.status);
  const end = done ? new Date(Date.parse(start) + (s.elapsed ?? 0) * 1000).toISOString() : undefined;
  return {
    id: newId(),
    action: { ref: s.action, name, pack, runner_type: 'noop', uid: `action:${pack}:${name}` },
    runner: { name: 'noop', runner_parameters: {} },
    status: s.status,
    start_timestamp: start,
    ...(end ? { end_timestamp: end, elapsed_seconds: s.elapsed ?? 0 } : {}),
    parameters: {},
    context: { user: s.user ?? 'stanley' },
    log: [{ status: s.status, timestamp: start }],
    children: [],
    ...(s.rule ? { rule: { ref: s.rule, name: s.rule.split('.')[1], pack: s.rule.split('.')[0] } } : {}),
    ...(s.parent ? { parent: s.parent } : {}),
  } as ExecutionRecord;
}

/** Rule enforcements of `rule`, `minutesAgo` before now. */
export async function seedEnforcements(
  store: Store,
  rule: string,
  n: number,
  minutesAgo = 10,
): Promise<void> {
  const at = new Date(Date.now() - minutesAgo * 60_000).toISOString();
  await store.ruleEnforcements.insertMany(
    Array.from({ length: n }, () => ({
      id: newId(),
      trigger_instance_id: newId(),
      rule: { ref: rule, id: newId(), uid: `rule:${rule.replace('.', ':')}` },
      enforced_at: at,
      status: 'succeeded' as const,
    })),
  );
}

/**
 * `n` top-level executions spread over the last `hours`, statuses and actions in rotation, written
 * in batches (one SQLite transaction each): a large history in seconds, without running anything.
 */
export async function seedBulkHistory(store: Store, n: number, hours = 24 * 29): Promise<void> {
  const statuses = ['succeeded', 'succeeded', 'succeeded', 'failed', 'timeout', 'canceled'];
  const actions = ['core.local', 'core.noop', 'core.http', 'examples.sequence', 'linux.check_loadavg'];
  const now = Date.now();
  const batch = 5000;
  for (let i = 0; i < n; i += batch) {
    const docs: ExecutionRecord[] = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      docs.push(
        executionRecord(
          {
            action: actions[j % actions.length],
            status: statuses[j % statuses.length],
            minutesAgo: ((j * 7919) % (hours * 60)) + 1,
            elapsed: j % 13,
            user: j % 10 === 0 ? 'olga' : 'stanley',
            rule: j % 4 === 0 ? 'examples.bulk_rule' : undefined,
          },
          now,
        ),
      );
    }
    await store.executions.insertMany(docs);
  }
}
