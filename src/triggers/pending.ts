import type { Services } from '../service/index.js';

/** The Agenda job the rules engine defines; its data is `{id}` of a trigger instance. */
export const TRIGGER_PROCESS_JOB = 'trigger.process';

/**
 * Trigger instances stored but not processed yet. An instance is entered before it is stored and
 * leaves once the rules engine is done with it; a process that died between storing an instance
 * and queueing its `trigger.process` job would otherwise leave it pending forever, and the sweep
 * finds it here without reading the (ever-growing) trigger_instances collection.
 */
export async function enterPending(services: Pick<Services, 'store'>, id: string): Promise<void> {
  await services.store.pendingInstances.replace({ id, since: new Date().toISOString() });
}

export async function leavePending(services: Pick<Services, 'store'>, id: string): Promise<void> {
  await services.store.pendingInstances.deleteOne({ id });
}

/**
 * Queues processing again for instances pending longer than `olderThanMs` with no
 * `trigger.process` job waiting or running; drops entries whose instance is done or was never
 * stored. Processing twice is harmless (each rule is enforced once per instance). Returns the ids
 * queued again.
 */
export async function sweepPendingInstances(
  services: Services,
  olderThanMs: number,
  limit = 500,
): Promise<string[]> {
  const { store, scheduler } = services;
  const stale = new Date(Date.now() - olderThanMs).toISOString();
  const entries = await store.pendingInstances.find({ since: { $lt: stale } }, { sort: { since: 1 }, limit });
  if (entries.length === 0) return [];
  const queued = new Set(
    (await scheduler.liveJobData<{ id?: string }>(TRIGGER_PROCESS_JOB, Date.parse(stale))).map((d) => d?.id),
  );
  const requeued: string[] = [];
  for (const entry of entries) {
    // Its job will process it (and remove the entry): not read. Under a backlog every entry is
    // stale, and reading each one every pass slowed the store the further behind it was.
    if (queued.has(entry.id)) continue;
    // eslint-disable-next-line no-restricted-syntax -- its status only, not its payload
    const instance = await store.triggerInstances.get(entry.id);
    if (!instance || (instance.status !== 'pending' && instance.status !== 'processing')) {
      await store.pendingInstances.deleteOne({ id: entry.id, since: entry.since });
      continue;
    }
    await scheduler.now(TRIGGER_PROCESS_JOB, { id: entry.id });
    requeued.push(entry.id);
  }
  return requeued;
}
