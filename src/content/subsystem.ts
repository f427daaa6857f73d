import type { Subsystem, Services } from '../service/index.js';
import { SquallError } from '../errors.js';
import { renderTemplate } from '../workflows/expressions/jinja/index.js';
import { aliasWriteRoutes } from './alias-routes.js';
import { contentRoutes } from './api.js';
import { packManagementRoutes } from './pack-routes.js';
import { packConfigRoutes } from './config-routes.js';
import { packSearchPaths } from './paths.js';
import { registerPacks } from './register.js';
import { packUnloadRoutes } from './unload.js';
import { readUnloaded, unloadedPacksFile } from './unloaded.js';
import { undefinedConfigNames } from './validate.js';

type St2kv = { system: Record<string, unknown>; user: Record<string, unknown> };

/**
 * The pack config an action sees as `config_context` / `config`: values with schema defaults,
 * dynamic values (`{{ st2kv.system.x }}`) rendered now, for this user. The datastore is read
 * only for a config that has dynamic values: it is every live key, read twice per execution.
 */
export async function renderPackConfig(
  services: Services,
  pack: string,
  readSt2kv: () => Promise<St2kv>,
  decrypt?: (c: string) => string,
): Promise<Record<string, unknown>> {
  // Its config alone: a pack's record (its files, its description) is copied out of the content
  // cache for every read, twice per execution.
  const record = await services.store.packs.findOne({ ref: pack }, { projection: { config: 1 } });
  const config = record?.config as
    { values?: Record<string, unknown>; dynamic_fields?: string[] } | undefined;
  // Most packs have no config values (registered as {}): no clone of them on every execution run.
  const given = config?.values;
  const values = given && Object.keys(given).length ? structuredClone(given) : {};
  const dynamic = config?.dynamic_fields ?? [];
  const st2kv = dynamic.length ? await readSt2kv() : { system: {}, user: {} };
  for (const dotted of dynamic) {
    const keys = dotted.split('.');
    let node: Record<string, unknown> = values;
    for (const k of keys.slice(0, -1)) node = (node[k] ?? {}) as Record<string, unknown>;
    const last = keys[keys.length - 1];
    if (typeof node[last] === 'string') {
      // st2 renders config values with StrictUndefined and only `st2kv` in the context, so the
      // pre-st2kv `{{ system.key }}` fails the action there rather than rendering ''.
      const unknown = undefinedConfigNames(node[last] as string);
      if (unknown.length > 0)
        throw new SquallError(
          'CONFIG_RENDER',
          `Failed to render dynamic configuration value for key "${dotted}" with value "${node[last] as string}" for pack "${pack}" config: '${unknown[0]}' is undefined (a pack config template sees only st2kv, e.g. {{ st2kv.system.name }})`,
          { pack, key: dotted },
          400,
        );
      node[last] = renderTemplate(
        node[last] as string,
        { st2kv },
        { decrypt, source: `config of pack ${pack}: ${dotted}` },
      );
    }
  }
  return values;
}

/** Registers packs from disk into the store at start-up and serves the content routes. */
export interface ContentOptions {
  /** Runs after an alias is created, changed or deleted through the API, before the answer. */
  aliasChanged?: () => Promise<void>;
}

export function contentSubsystem(options: ContentOptions = {}): Subsystem {
  return {
    name: 'content',
    routes: (router, services) => {
      contentRoutes(router, services);
      aliasWriteRoutes(router, services, options.aliasChanged);
      packManagementRoutes(router, services);
      packUnloadRoutes(router, services);
      packConfigRoutes(router, services);
    },
    async init(services: Services) {
      const report = await registerPacks({
        store: services.store,
        logger: services.logger.child({ component: 'content' }),
        packPaths: packSearchPaths(services),
        configDir: services.config.packs.config_dir!,
        // Unloaded packs stay so until registered, as in st2 (which registers nothing at start).
        skip: readUnloaded(unloadedPacksFile(services.config.data_dir)),
      });
      services.bus.publish('squall.content__registered', { packs: report.packs, counts: report.counts });
      const errors = report.problems.filter((p) => p.severity === 'error').length;
      services.logger.info(
        { ...report.counts, errors, packs: report.packs },
        `registered ${report.packs.length} packs`,
      );
    },
  };
}
