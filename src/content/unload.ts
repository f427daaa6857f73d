import { type RouteModule, authorize } from '../api/index.js';
import { NotFoundError, SquallError } from '../errors.js';
import type { Services } from '../service/index.js';
import type { Collection, StoredRecord, Store } from '../store/index.js';
import { BUNDLED_PACKS_DIR } from './paths.js';
import { markUnloaded, unloadedPacksFile } from './unloaded.js';

/**
 * Unloading a pack (st2's `packs.unload`, contrib/packs/actions/pack_mgmt/unload.py): its records
 * leave the store, its files stay on disk, and `squall pack register <pack>` brings them back.
 * st2's action deletes, per pack, its sensor types, trigger types, triggers, actions, rules,
 * aliases, policies, then the pack record, its config schema and its config. Squall keeps the
 * config schema and config inside the pack record; they are answered here as records of their own
 * so that st2's code finds and deletes them as it does in st2's database.
 */

/** st2's persistence class names (st2common.persistence.*) and where Squall keeps each. */
export const PACK_RECORD_MODELS = [
  'SensorType',
  'TriggerType',
  'Trigger',
  'Action',
  'Rule',
  'ActionAlias',
  'Policy',
  'Pack',
  'ConfigSchema',
  'Config',
] as const;
export type PackRecordModel = (typeof PACK_RECORD_MODELS)[number];

type Keyed = StoredRecord & { ref: string; pack: string };

function collectionOf(store: Store, model: PackRecordModel): Collection<Keyed> | undefined {
  const by: Partial<Record<PackRecordModel, unknown>> = {
    SensorType: store.sensors,
    TriggerType: store.triggerTypes,
    Trigger: store.triggers,
    Action: store.actions,
    Rule: store.rules,
    ActionAlias: store.aliases,
    Policy: store.policies,
  };
  return by[model] as Collection<Keyed> | undefined;
}

/** What a record shows to pack code: who it is, never its content (a config holds secrets). */
function brief(model: PackRecordModel, r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { id: r.id, ref: r.ref, name: r.name, pack: r.pack };
  if (r.uid !== undefined) out.uid = r.uid;
  // st2's RuleDB.trigger is the trigger's ref; Squall's rule keeps the trigger type in trigger.type.
  if (model === 'Rule') out.trigger = (r.trigger as { type?: string } | undefined)?.type;
  if (model === 'Trigger') out.type = r.type;
  return out;
}

export interface PackRecords {
  pack: string;
  /** The pack is one of Squall's bundled packs: its records cannot be unloaded. */
  bundled: boolean;
  records: Record<PackRecordModel, Array<Record<string, unknown>>>;
  /** Rules of other packs whose trigger type belongs to this pack (st2 warns about them). */
  dependent_rules: Array<Record<string, unknown>>;
}

function isBundled(pack: { path?: unknown } | null): boolean {
  return Boolean(pack && String(pack.path ?? '').startsWith(BUNDLED_PACKS_DIR));
}

/** Every record registered for pack `ref`, by st2 model; NotFound when nothing is. */
export async function packRecords(store: Store, ref: string): Promise<PackRecords> {
  const pack = await store.packs.findOne({ ref });
  const records = {} as PackRecords['records'];
  let count = 0;
  for (const model of PACK_RECORD_MODELS) {
    const coll = collectionOf(store, model);
    let found: Array<Record<string, unknown>> = [];
    if (coll) {
      // System records (st2's own trigger types under `core`) are Squall's, not the pack's.
      found = (await coll.find({ pack: ref }))
        .filter((r) => !(r as { system?: boolean }).system)
        .map((r) => brief(model, r as never));
    } else if (pack && model === 'Pack') {
      found = [{ id: pack.id, ref: pack.ref, name: pack.name, pack: pack.ref }];
    } else if (pack && model === 'ConfigSchema' && pack.config_schema) {
      found = [{ id: pack.id, pack: pack.ref }];
    } else if (pack && model === 'Config' && pack.config) {
      found = [{ id: pack.id, pack: pack.ref }];
    }
    records[model] = found;
    count += found.length;
  }
  if (!count) throw new NotFoundError('pack', ref, { hint: 'no pack of that ref is registered' });
  // By ref (PACK.NAME), so they are still found once the trigger types are deleted.
  const dependent_rules = (await store.rules.find({}))
    .filter((r) => r.pack !== ref && String((r.trigger as { type?: string })?.type).startsWith(`${ref}.`))
    .map((r) => brief('Rule', r as never));
  return { pack: ref, bundled: isBundled(pack), records, dependent_rules };
}

function refuseBundled(ref: string): never {
  throw new SquallError('PACK_BUNDLED', `pack "${ref}" is bundled with Squall and cannot be unloaded`, {
    ref,
  });
}

/**
 * Deletes one record of pack `ref` (st2's `<Model>.delete(db_obj)`). Answers whether it was
 * there: deleting what is already gone does nothing, as in st2's database.
 */
export async function deletePackRecord(
  store: Store,
  ref: string,
  model: PackRecordModel,
  id: string,
): Promise<boolean> {
  const pack = await store.packs.findOne({ ref });
  if (isBundled(pack)) refuseBundled(ref);
  const coll = collectionOf(store, model);
  if (coll) {
    const rec = await coll.get(id);
    if (!rec || rec.pack !== ref || (rec as { system?: boolean }).system) return false;
    return Boolean(await coll.deleteOne({ id }));
  }
  if (!pack || pack.id !== id) return false;
  if (model === 'Pack') return Boolean(await store.packs.deleteOne({ id }));
  const field = model === 'ConfigSchema' ? 'config_schema' : 'config';
  if (pack[field] === undefined) return false;
  const { [field]: _gone, ...rest } = pack;
  await store.packs.replace(rest as typeof pack);
  return true;
}

export type UnloadReport = Record<PackRecordModel, string[]> & { warnings: string[] };

/** Unloads a whole pack, in st2's order; answers what went, by model (refs, or the pack's ref). */
export async function unloadPack(store: Store, ref: string): Promise<UnloadReport> {
  const found = await packRecords(store, ref);
  if (found.bundled) refuseBundled(ref);
  const report = { warnings: [] } as unknown as UnloadReport;
  // The config schema and config are kept in the pack record here: they go before it.
  const order = [...PACK_RECORD_MODELS.filter((m) => m !== 'Pack'), 'Pack' as const];
  for (const model of order) {
    report[model] = [];
    for (const r of found.records[model]) {
      if (await deletePackRecord(store, ref, model, String(r.id))) report[model].push(String(r.ref ?? ref));
    }
  }
  for (const rule of found.dependent_rules)
    report.warnings.push(`Rule "${String(rule.ref)}" references deleted trigger "${String(rule.trigger)}"`);
  return report;
}

/** Tells the rules engine, sensors, timers and policies that the pack's content changed. */
function published(services: Services, ref: string): void {
  services.bus.publish('st2.pack__register', { unloaded: [ref] });
}

function modelOf(value: string): PackRecordModel {
  if (!(PACK_RECORD_MODELS as readonly string[]).includes(value))
    throw new SquallError(
      'PACK_RECORD_MODEL_UNKNOWN',
      `"${value}" is not one of ${PACK_RECORD_MODELS.join(', ')}`,
      { model: value },
    );
  return value as PackRecordModel;
}

/**
 * Squall's routes for unloading (st2 does it from the `packs.unload` action straight on its
 * database): the whole pack at once, or record by record for st2's own unload.py, which the
 * Python runner's st2common.persistence stand-ins serve with these routes.
 */
export const packUnloadRoutes: RouteModule = (router, services) => {
  const { store } = services;
  const may = (req: Parameters<typeof authorize>[1], permission: string, ref: string) =>
    authorize(services, req, permission, { uid: `pack:${ref}`, pack: ref });

  router.add({
    method: 'post',
    path: '/api/v1/packs/unload',
    responses: { 404: 'A pack named is not registered.' },
    summary:
      "Unregister packs' content (st2's packs.unload), keeping their files: `pack register` brings it back",
    tag: 'packs',
    body: {
      type: 'object',
      required: ['packs'],
      properties: { packs: { type: 'array', minItems: 1, items: { type: 'string' } } },
    },
    handler: async ({ req, body }) => {
      const refs = (body as { packs: string[] }).packs;
      const found: PackRecords[] = [];
      // Everything is checked before anything is removed.
      for (const ref of refs) {
        may(req, 'pack_uninstall', ref);
        const records = await packRecords(store, ref);
        if (records.bundled) refuseBundled(ref);
        found.push(records);
      }
      const unloaded: Record<string, UnloadReport> = {};
      for (const { pack } of found) {
        unloaded[pack] = await unloadPack(store, pack);
        markUnloaded(unloadedPacksFile(services.config.data_dir), [pack]);
        published(services, pack);
      }
      return { packs_list: refs, unloaded };
    },
  });

  router.add({
    method: 'get',
    path: '/api/v1/packs/:ref/records',
    responses: { 404: 'Nothing is registered for that pack.' },
    summary: "A pack's registered records by st2 model (ids and refs only)",
    tag: 'packs',
    handler: async ({ req, params }) => {
      may(req, 'pack_view', params.ref);
      return packRecords(store, params.ref);
    },
  });

  router.add({
    method: 'delete',
    path: '/api/v1/packs/:ref/records/:model/:id',
    summary: "Delete one of a pack's registered records (its files stay)",
    tag: 'packs',
    handler: async ({ req, params }) => {
      may(req, 'pack_uninstall', params.ref);
      const model = modelOf(params.model);
      const deleted = await deletePackRecord(store, params.ref, model, params.id);
      // st2's unload deletes the pack record once its content is gone: the pack is unloaded.
      if (deleted && model === 'Pack')
        markUnloaded(unloadedPacksFile(services.config.data_dir), [params.ref]);
      // Actions and configs are read from the store when used; the others are held by engines.
      const held = !['Action', 'Config', 'ConfigSchema'].includes(model);
      if (deleted && held) published(services, params.ref);
      return { deleted };
    },
  });
};
