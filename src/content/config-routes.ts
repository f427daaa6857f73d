import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import { UnkeptAjv } from '../ajv-compile.js';
import yaml from 'js-yaml';
import { type RouteModule, authorize, requestUser } from '../api/index.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { MASK } from '../executions/index.js';
import { changeAt, valueAtTrail } from '../secret-paths.js';
import { parametersToObjectSchema } from './validate.js';

/**
 * Its ajv is made at the first config write (not at every start). Each save compiles the pack's
 * schema anew, and one ajv for ever kept every one of them.
 */
const ajv = new UnkeptAjv(() => new Ajv({ allErrors: true, useDefaults: true, strict: false }), 1);

type PackConfig = {
  values?: Record<string, unknown>;
  secret_fields?: string[];
  dynamic_fields?: string[];
  file?: string;
};

/** `values` with each secret field (the loader's secret_fields) that holds a value masked. */
function maskSecrets(values: Record<string, unknown>, secretFields: string[]): Record<string, unknown> {
  let out = values;
  for (const field of secretFields)
    out = changeAt(out, field, (value) => (value === undefined || value === null ? value : MASK));
  return out;
}

/** Pack configs (st2 §14.3): schemas, masked values, and validated updates written to `<config_dir>/<pack>.yaml`. */
export const packConfigRoutes: RouteModule = (router, services) => {
  const { store } = services;
  const pack = async (ref: string) => {
    const p = await store.packs.findOne({ ref });
    if (!p) throw new NotFoundError('Pack', ref);
    return p;
  };
  const isAdmin = (req: Parameters<typeof requestUser>[0]) =>
    requestUser(req).roles.some((r) => r === 'admin' || r === 'system_admin');

  router.add({
    method: 'get',
    path: '/api/v1/config_schemas',
    summary: 'Config schemas of all packs',
    tag: 'packs',
    handler: async ({ req }) => {
      authorize(services, req, 'pack_list');
      const packs = await store.packs.find({}, { sort: { ref: 1 } });
      return packs.filter((p) => p.config_schema).map((p) => ({ pack: p.ref, attributes: p.config_schema }));
    },
  });
  router.add({
    method: 'get',
    path: '/api/v1/config_schemas/:pack',
    summary: "A pack's config schema",
    tag: 'packs',
    handler: async ({ req, params }) => {
      const p = await pack(params.pack);
      authorize(services, req, 'pack_view', { uid: `pack:${p.ref}`, pack: p.ref });
      if (!p.config_schema) throw new NotFoundError('Config schema', params.pack);
      return { pack: p.ref, attributes: p.config_schema };
    },
  });
  router.add({
    method: 'get',
    path: '/api/v1/configs',
    summary: 'Pack configs, secrets masked',
    tag: 'packs',
    handler: async ({ req }) => {
      authorize(services, req, 'pack_list');
      const packs = await store.packs.find({}, { sort: { ref: 1 } });
      return packs
        .filter((p) => p.config)
        .map((p) => {
          const c = p.config as PackConfig;
          return { pack: p.ref, values: maskSecrets(c.values ?? {}, c.secret_fields ?? []) };
        });
    },
  });
  router.add({
    method: 'get',
    path: '/api/v1/configs/:pack',
    summary: "A pack's config; secrets masked unless show_secrets (admins)",
    tag: 'packs',
    query: { type: 'object', properties: { show_secrets: { type: 'boolean' } } },
    handler: async ({ req, params, query }) => {
      const p = await pack(params.pack);
      authorize(services, req, 'pack_view', { uid: `pack:${p.ref}`, pack: p.ref });
      const c = (p.config ?? {}) as PackConfig;
      const reveal = query.show_secrets === true && isAdmin(req);
      if (reveal)
        services.logger.warn({ pack: p.ref, user: requestUser(req).name }, 'pack config secrets shown');
      return {
        pack: p.ref,
        values: reveal ? (c.values ?? {}) : maskSecrets(c.values ?? {}, c.secret_fields ?? []),
      };
    },
  });
  router.add({
    method: 'put',
    path: '/api/v1/configs/:pack',
    summary: "Replace a pack's config (validated against its schema; masked secrets keep their stored value)",
    tag: 'packs',
    body: { type: 'object' },
    handler: async ({ req, params, body }) => {
      const p = await pack(params.pack);
      authorize(services, req, 'pack_config', { uid: `pack:${p.ref}`, pack: p.ref });
      const previous = (p.config ?? {}) as PackConfig;
      let values = structuredClone(body as Record<string, unknown>);
      // The UI sends back ******** for secrets it was never shown: keep what is stored.
      for (const field of previous.secret_fields ?? [])
        values = changeAt(values, field, (value, trail) =>
          value === MASK ? valueAtTrail(previous.values, trail) : value,
        );
      if (p.config_schema) {
        const schema = parametersToObjectSchema(p.config_schema as Record<string, unknown>, true);
        const validate = ajv.compile(schema, JSON.stringify(schema));
        if (!validate(values)) {
          const errors = (validate.errors ?? []).map((e) => {
            const field =
              (e.instancePath.replace(/^\//, '').replace(/\//g, '.') ||
                (e.params as { missingProperty?: string }).missingProperty) ??
              '';
            return { field, message: e.message ?? 'is invalid' };
          });
          throw new ValidationError(
            `config of pack "${p.ref}" is invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
            { pack: p.ref, errors },
          );
        }
      }
      const file = path.join(services.config.packs.config_dir!, `${p.ref}.yaml`);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, yaml.dump(values), { mode: 0o600 });
      const dynamic = Object.keys(flatten(values)).filter((k) => /\{\{|\{%/.test(String(flatten(values)[k])));
      const config: PackConfig = {
        values,
        secret_fields: previous.secret_fields ?? [],
        dynamic_fields: dynamic,
        file,
      };
      await store.packs.updateOne({ id: p.id }, { $set: { config } });
      return { pack: p.ref, values: maskSecrets(values, config.secret_fields ?? []) };
    },
  });
};

function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v))
      Object.assign(out, flatten(v as Record<string, unknown>, key));
    else out[key] = v;
  }
  return out;
}
