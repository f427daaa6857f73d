import { expect } from 'vitest';
import { isCompleted } from '../../src/executions/index.js';
import type { ExecutionRecord, Store } from '../../src/store/index.js';
import { waitFor } from './wait.js';

/**
 * What a runner that claimed the run of `id` (attempt 0) and was killed before starting it leaves
 * behind: the claim, held by `worker` (a stand-in that sends no heartbeat), taken at `at`.
 */
export async function claimedBy(store: Store, id: string, worker: string, at?: string): Promise<void> {
  expect(await store.claim(`execution:${id}:attempt:0`, worker, at)).toBe(true);
}

/** The execution `id` as the store holds it once it has completed; `what` names the wait. */
export function ended(store: Store, id: string, what: string, timeoutMs = 20_000): Promise<ExecutionRecord> {
  return waitFor(
    async () => {
      const r = await store.executions.get(id);
      return r && isCompleted(r.status) ? r : null;
    },
    what,
    timeoutMs,
  );
}
