/**
 * Parameterised Trigger records (st2 `TriggerDB`): one per distinct (type, parameters) used by
 * rules, with `ref_count` = the number of rules bound to it. Recomputed from the rules whenever
 * rules change, so the records never drift from what the rules say.
 */
import { ConflictError } from '../errors.js';
import { newId } from '../ids.js';
import type { Services } from '../service/index.js';
import type { RuleRecord, TriggerRecord } from '../store/index.js';
import { SYSTEM_TRIGGER_TYPES } from './system-types.js';
import { hasParameters, nameOfRef, packOfRef, triggerRefFor, WEBHOOK_TRIGGER_TYPE } from './refs.js';

export const MASK = '********';

/** What the API shows of a trigger: a webhook's HMAC secret never leaves the server. */
export function presentTrigger(trigger: TriggerRecord): TriggerRecord {
  return { ...trigger, parameters: maskTriggerParameters(trigger.parameters) };
}

export function maskTriggerParameters(
  parameters: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (!parameters) return {};
  const hmac = parameters.hmac as Record<string, unknown> | undefined;
  if (!hmac || typeof hmac !== 'object' || hmac.secret === undefined) return parameters;
  return { ...parameters, hmac: { ...hmac, secret: MASK } };
}

function sameTrigger(a: TriggerRecord, b: Omit<TriggerRecord, 'id'>): boolean {
  return (
    a.ref_count === b.ref_count &&
    a.type === b.type &&
    JSON.stringify(a.parameters) === JSON.stringify(b.parameters)
  );
}

export interface TriggerSyncReport {
  created: string[];
  updated: string[];
  deleted: string[];
}

/** Brings the rule-bound Trigger records in line with the rules in the store. */
export async function syncTriggers(services: Services): Promise<TriggerSyncReport> {
  const { store, bus } = services;
  const rules = (await store.rules.find({})) as RuleRecord[];
  const wanted = new Map<string, Omit<TriggerRecord, 'id'>>();
  for (const rule of rules) {
    const t = rule.trigger as { type?: string; parameters?: Record<string, unknown> } | undefined;
    if (!t?.type || !hasParameters(t.parameters)) continue;
    const ref = triggerRefFor(t.type, t.parameters);
    const existing = wanted.get(ref);
    if (existing) {
      existing.ref_count = Number(existing.ref_count) + 1;
      continue;
    }
    const pack = packOfRef(ref);
    const name = nameOfRef(ref);
    wanted.set(ref, {
      ref,
      name,
      pack,
      uid: `trigger:${pack}:${name}`,
      type: t.type,
      parameters: t.parameters,
      ref_count: 1,
      source: 'rules',
      ...(t.type === WEBHOOK_TRIGGER_TYPE ? { description: 'Webhook bound by rules' } : {}),
    });
  }
  const report: TriggerSyncReport = { created: [], updated: [], deleted: [] };
  const current = await store.triggers.find({ source: 'rules' });
  const byRef = new Map(current.map((t) => [t.ref, t]));
  for (const [ref, want] of wanted) {
    const prev = byRef.get(ref);
    if (prev && sameTrigger(prev, want)) continue;
    const record = { ...want, id: prev?.id ?? newId() } as TriggerRecord;
    try {
      await store.triggers.replace(record);
    } catch (err) {
      // Another process wrote the same ref first; its record is equivalent.
      if (err instanceof ConflictError) continue;
      throw err;
    }
    (prev ? report.updated : report.created).push(ref);
    bus.publish(prev ? 'st2.trigger__update' : 'st2.trigger__create', presentTrigger(record));
  }
  for (const t of current) {
    if (wanted.has(t.ref)) continue;
    if (await store.triggers.deleteOne({ id: t.id })) {
      report.deleted.push(t.ref);
      bus.publish('st2.trigger__delete', presentTrigger(t));
    }
  }
  return report;
}

/**
 * Puts back any of st2's system trigger types (core.st2.webhook, the timers, the action
 * trigger...) missing from the store. Pack registration of `core` can remove them, since they
 * are not files of the pack; without them no webhook, timer or action trigger could dispatch.
 */
export async function ensureSystemTriggerTypes(services: Services): Promise<string[]> {
  const { store } = services;
  const restored: string[] = [];
  for (const tt of SYSTEM_TRIGGER_TYPES) {
    if (await store.triggerTypes.findOne({ ref: tt.ref })) continue;
    try {
      await store.triggerTypes.insert({
        ...(tt as unknown as Record<string, unknown>),
        id: newId(),
        system: true,
      } as never);
      restored.push(tt.ref);
    } catch (err) {
      if (err instanceof ConflictError) continue;
      throw err;
    }
  }
  if (restored.length)
    services.logger.warn({ restored }, 'restored system trigger types missing from the store');
  return restored;
}
