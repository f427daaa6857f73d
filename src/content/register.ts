import { bundledPackDirs, formatProblem, loadPacks, type ContentProblem, type LoadedPack } from './index.js';
import { SYSTEM_TRIGGER_TYPES } from '../triggers/index.js';
import { RUNNER_TYPES } from '../runners/index.js';
import type { Collection, StoredRecord, Store } from '../store/index.js';
import type { Logger } from '../log/index.js';
import { newId } from '../ids.js';
import { ConflictError, SquallError } from '../errors.js';
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { loadYaml } from '../yaml.js';
import { RESERVED_PACK_REFS } from './schemas/index.js';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

export interface RegisterOptions {
  store: Store;
  logger: Logger;
  /** Extra pack search directories (config packs.paths + install dir); bundled packs come first. */
  packPaths: string[];
  configDir: string;
  /** Only these packs (by ref); all when absent. */
  only?: string[];
  /** Packs left out of a registration of all (unloaded ones, at start). */
  skip?: string[];
}

export interface RegisterReport {
  packs: string[];
  counts: Record<string, number>;
  /** Problems of the registered packs only (all packs when `only` is absent). */
  problems: ContentProblem[];
  /** Bundled packs that a pack of the same ref from the search paths replaces. */
  overridden: BundledOverride[];
}

export interface BundledOverride {
  ref: string;
  /** The bundled copy that is not loaded. */
  bundled: string;
  /** The user's copy that is loaded instead. */
  by: string;
}

/**
 * Directories under each search path that hold a pack.yaml. Dot-directories are skipped: they
 * are installs being staged (`.installing-*`) or kept for rollback (`.previous-*`).
 */
export function packDirsIn(paths: string[]): string[] {
  const out: string[] = [];
  for (const base of paths) {
    if (!existsSync(base)) continue;
    if (existsSync(path.join(base, 'pack.yaml'))) {
      out.push(base);
      continue;
    }
    for (const entry of readdirSync(base, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory() && existsSync(path.join(base, entry.name, 'pack.yaml')))
        out.push(path.join(base, entry.name));
    }
  }
  return out;
}

/** The ref pack.yaml declares (ref, else name), or undefined when it cannot be read. */
function declaredRef(dir: string): string | undefined {
  try {
    const data = loadYaml(readFileSync(path.join(dir, 'pack.yaml'), 'utf8')) as Record<string, unknown>;
    const ref = data?.ref ?? data?.name;
    return typeof ref === 'string' ? ref : undefined;
  } catch {
    return undefined; // the loader reports the broken pack.yaml under the pack's own directory
  }
}

/** Refs of the packs bundled with Squall. */
export async function bundledRefs(): Promise<Set<string>> {
  return new Set((await bundledPackDirs()).map((dir) => declaredRef(dir) ?? path.basename(dir)));
}

/**
 * The pack directories in load order. A pack installed by the user (or found in packs.paths)
 * replaces the bundled pack of the same ref, except the reserved ones; the bundled copy is then
 * not loaded at all, so it reports nothing.
 */
export async function packDirsByPrecedence(
  packPaths: string[],
): Promise<{ dirs: string[]; overridden: BundledOverride[] }> {
  const userDirs = packDirsIn(packPaths);
  const userRefs = new Map<string, string>();
  for (const dir of userDirs) {
    const ref = declaredRef(dir);
    if (ref && !userRefs.has(ref)) userRefs.set(ref, dir);
  }
  const reserved: string[] = [];
  const rest: string[] = [];
  const overridden: BundledOverride[] = [];
  for (const dir of await bundledPackDirs()) {
    const ref = declaredRef(dir) ?? path.basename(dir);
    const by = userRefs.get(ref);
    if (RESERVED_PACK_REFS.includes(ref)) reserved.push(dir);
    else if (by) overridden.push({ ref, bundled: dir, by });
    else rest.push(dir);
  }
  return { dirs: [...reserved, ...userDirs, ...rest], overridden };
}

type KeyedRecord = StoredRecord & { ref: string };

/**
 * Replaces the record matching `filter` (keeping its id) or inserts it under a new id. Safe when
 * several processes register the same packs at once on an empty database: both find nothing and
 * insert under different ids, the unique index refuses the later one, which then reads the
 * earlier one's id and writes again (the same content, from the same files).
 */
async function upsertByKey<T extends StoredRecord>(
  coll: Collection<T>,
  filter: Record<string, unknown>,
  build: (id: string) => T,
  known?: T | null,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const prev = attempt === 1 && known !== undefined ? known : await coll.findOne(filter);
    const next = build(prev?.id ?? newId());
    // Every start registers every pack: unchanged records are not written again (on FerretDB,
    // rewriting ~200 records made each restart take 10–20 s).
    if (prev && sameContent(prev, next)) return;
    try {
      await coll.replace(next);
      return;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= 5) throw err;
    }
  }
}

/** Equal as stored: keys whose value is undefined are not stored, so they do not count. */
function sameContent(stored: object, next: object): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(stored)), JSON.parse(JSON.stringify(next)));
}

/**
 * Writes what is on disk into the store, as `st2ctl reload` does: new and changed records are
 * upserted (keeping their ids), records of the pack that no longer exist on disk are removed.
 * Idempotent. A broken file is reported and skipped; it never stops the other packs.
 */
async function sync<T extends KeyedRecord>(
  coll: Collection<T>,
  pack: string,
  records: Array<Omit<T, 'id'>>,
): Promise<number> {
  const existing = await coll.find({ pack });
  const byRef = new Map(existing.map((r) => [r.ref, r]));
  const keep = new Set<string>();
  for (const rec of records) {
    keep.add(rec.ref);
    // As in st2 the file is the source of truth: its values replace the stored ones.
    await upsertByKey(
      coll,
      { ref: rec.ref },
      (id) => ({ ...(rec as object), id }) as T,
      byRef.get(rec.ref) ?? null,
    );
  }
  // Only records that came from files are the files' to remove: system types and records
  // created through the API stay.
  for (const r of existing) {
    const fromFile =
      Boolean((r as { metadata_file?: string }).metadata_file) && !(r as { system?: boolean }).system;
    if (!keep.has(r.ref) && fromFile) await coll.deleteOne({ id: r.id });
  }
  return records.length;
}

export async function registerSystemContent(store: Store): Promise<void> {
  for (const runner of Object.values(RUNNER_TYPES)) {
    await upsertByKey(
      store.runnerTypes,
      { name: runner.name },
      (id) => ({ ...runner, id, uid: `runner_type:${runner.name}` }) as never,
    );
  }
  for (const tt of SYSTEM_TRIGGER_TYPES) {
    await upsertByKey(
      store.triggerTypes,
      { ref: tt.ref },
      (id) => ({ ...(tt as object), id, uid: `trigger_type:${tt.pack}:${tt.name}`, system: true }) as never,
    );
  }
}

export async function registerPacks(options: RegisterOptions): Promise<RegisterReport> {
  const { store, logger } = options;
  await registerSystemContent(store);
  const { dirs, overridden } = await packDirsByPrecedence(options.packPaths);
  // Every pack is loaded (rules of one pack refer to actions of others), but only the named ones
  // are written and reported: a broken pack never adds noise to another pack's registration.
  const loaded = await loadPacks(dirs, { configDir: options.configDir });
  const counts: Record<string, number> = {
    packs: 0,
    actions: 0,
    rules: 0,
    aliases: 0,
    policies: 0,
    sensors: 0,
    trigger_types: 0,
  };
  const wanted = (ref: string | undefined) =>
    options.only
      ? ref !== undefined && options.only.includes(ref)
      : !(ref !== undefined && options.skip?.includes(ref));
  const registered: string[] = [];
  const seen = new Set<string>();
  const dirsOfWanted = new Set<string>();
  for (const pack of loaded.packs) {
    if (!wanted(pack.ref)) continue;
    dirsOfWanted.add(pack.dir);
    if (seen.has(pack.ref)) continue;
    seen.add(pack.ref);
    await registerOne(store, pack, counts);
    registered.push(pack.ref);
  }
  const problems = loaded.problems.filter(
    (p) => wanted(p.pack) || (p.pack_dir !== undefined && dirsOfWanted.has(p.pack_dir)),
  );
  const missing = (options.only ?? []).filter(
    (ref) => !registered.includes(ref) && !problems.some((p) => p.pack === ref),
  );
  if (missing.length) {
    throw new SquallError(
      'PACK_NOT_FOUND',
      `Pack ${missing.map((m) => `"${m}"`).join(', ')} not found on disk (looked in the bundled packs and ${options.packPaths.join(', ')})`,
      { packs: missing, paths: options.packPaths },
    );
  }
  for (const p of problems) {
    const line = formatProblem(p);
    if (p.severity === 'error') logger.error({ problem: p }, line);
    else logger.warn({ problem: p }, line);
  }
  for (const o of overridden.filter((x) => wanted(x.ref)))
    logger.info(
      { pack: o.ref, by: o.by, bundled: o.bundled },
      `pack ${o.ref} from ${o.by} replaces the bundled one`,
    );
  return { packs: registered, counts, problems, overridden: overridden.filter((o) => wanted(o.ref)) };
}

async function registerOne(store: Store, pack: LoadedPack, counts: Record<string, number>): Promise<void> {
  await upsertByKey(
    store.packs,
    { ref: pack.ref },
    (id) =>
      ({ ...(pack.pack as object), id, config_schema: pack.config_schema, config: pack.config }) as never,
  );
  counts.packs++;
  const p = pack.ref;
  counts.actions += await sync(store.actions as never, p, pack.actions as never);
  counts.rules += await sync(store.rules as never, p, pack.rules as never);
  counts.aliases += await sync(store.aliases as never, p, pack.aliases as never);
  counts.policies += await sync(store.policies as never, p, pack.policies as never);
  counts.sensors += await sync(store.sensors as never, p, pack.sensors as never);
  counts.trigger_types += await sync(store.triggerTypes as never, p, pack.trigger_types as never);
}

/**
 * Registers one loaded pack, replacing whatever is registered under its ref (the bundled pack of
 * the same ref included): the acceptance run of st2's own `examples` pack uses it.
 */
export async function registerLoadedPack(store: Store, pack: LoadedPack): Promise<void> {
  await registerOne(store, pack, {});
}

/** Removes every record of a pack (its files are removed by removePack). */
export async function unregisterPack(store: Store, ref: string): Promise<void> {
  for (const coll of [
    store.actions,
    store.rules,
    store.aliases,
    store.policies,
    store.sensors,
    store.triggerTypes,
  ] as Array<Collection<KeyedRecord>>) {
    await coll.deleteMany({ pack: ref });
  }
  await store.packs.deleteOne({ ref });
}
