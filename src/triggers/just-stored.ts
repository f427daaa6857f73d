import type { Services } from '../service/index.js';
import type { TriggerInstanceRecord } from '../store/index.js';

/**
 * Trigger instances this process has just inserted under an id it made itself, handed to this
 * process's `trigger.process` run so it need not read back what it wrote (on MongoDB a round trip
 * per webhook, ~0.5 ms of CPU on FerretDB; on the embedded store a statement and the row's decode,
 * about what the copy costs, but one store call of issue 19's count per webhook). Only while nobody else can have changed the record:
 * its id was new (no retry or re-dispatch can name it), and another process takes the instance
 * over only once its job's lock lapsed or the pending sweep finds it stale — both after
 * `holdMs`, half the shorter of the two. An older or missing entry is read from the store as
 * before. Taken once: a second run of the same job reads the store.
 */
interface Entry {
  record: TriggerInstanceRecord;
  at: number;
}

const byServices = new WeakMap<Services, Map<string, Entry>>();

function holdMs(services: Services): number {
  return Math.min(services.config.executions.dead_after_ms, services.config.scheduler.lock_lifetime_ms) / 2;
}

/** Remembers an instance just inserted under a new id, for this process's run of its job. */
export function rememberStored(services: Services, record: TriggerInstanceRecord): void {
  let entries = byServices.get(services);
  if (!entries) byServices.set(services, (entries = new Map()));
  const now = Date.now();
  // Entries in insertion order: drop those no run took in time (their job ran elsewhere or failed).
  const limit = holdMs(services);
  for (const [id, e] of entries) {
    if (now - e.at <= limit) break;
    entries.delete(id);
  }
  entries.set(record.id, { record: structuredClone(record), at: now });
}

/** Forgets an instance whose job could not be queued. */
export function forgetStored(services: Services, id: string): void {
  byServices.get(services)?.delete(id);
}

/** The instance this process stored moments ago under `id` (taken once), or undefined: read the store. */
export function takeStored(services: Services, id: string): TriggerInstanceRecord | undefined {
  const entries = byServices.get(services);
  const entry = entries?.get(id);
  if (!entry) return undefined;
  entries!.delete(id);
  return Date.now() - entry.at <= holdMs(services) ? entry.record : undefined;
}
