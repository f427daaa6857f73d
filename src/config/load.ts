import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { SquallError } from '../errors.js';
import { loadYaml } from '../yaml.js';
import { builtValidator } from '../lazy-validator.js';
import { configSchema } from './schema.js';
import { mistypedEnvNames } from './env-names.js';

/** One target of a chatops notification route. */
export interface ChatRouteConfig {
  adapter?: string;
  channel?: string;
  thread?: string;
  webhook?: string;
  headers?: Record<string, string>;
}

export interface SquallConfig {
  data_dir: string;
  roles: string[];
  api: {
    host: string;
    port: number;
    url?: string;
    body_limit: string;
    max_page_size: number;
    max_admin_page_size: number;
    cors_origins: string[];
    max_streams_per_user: number;
    max_stream_buffer_bytes: number;
    max_waiting_webhooks_per_user: number;
    max_waiting_webhooks: number;
    headers_timeout_ms: number;
    keep_alive_timeout_ms: number;
    request_timeout_ms: number;
  };
  store: { url?: string; cache_mb: number; check_on_start: boolean };
  redis: { url?: string };
  log: { level: string; format: 'auto' | 'json' | 'pretty' };
  auth: {
    enable: boolean;
    token_ttl: number;
    admin_username: string;
    admin_password?: string;
    api_url?: string;
  };
  packs: {
    paths: string[];
    install_dir?: string;
    config_dir?: string;
    virtualenvs_dir?: string;
    index_url?: string;
    /** st2's [packs] enable_common_libs (default false). */
    enable_common_libs?: boolean;
    /** st2's [actionrunner] python_binary: the interpreter pack virtualenvs are made with. */
    python_binary: string;
    /** st2's [actionrunner] virtualenv_opts: extra options for `-m venv`. */
    virtualenv_opts: string[];
  };
  chatops: {
    enable: boolean;
    prefix: string;
    bot_name: string;
    max_command_length: number;
    card_edit_interval_ms: number;
    link_ttl_ms: number;
    default_user: string;
    default_roles: string[];
    users: Record<string, string>;
    routes: Record<string, ChatRouteConfig | ChatRouteConfig[]>;
    delivery_attempts: number;
    delivery_backoff_ms: number;
    alias_reload_ms: number;
    forward_timeout_ms: number;
    slack: {
      enabled: boolean;
      mode: 'socket' | 'http';
      bot_token?: string;
      app_token?: string;
      signing_secret?: string;
      slash_command: string;
      api_url?: string;
      events_path: string;
      port: number;
    };
    discord: {
      enabled: boolean;
      token?: string;
      application_id?: string;
      guild_id?: string;
      api_url?: string;
      gateway_url?: string;
      prefix?: string;
      slash_command: string;
      message_content: boolean;
    };
  };
  scheduler: { process_every_ms: number; max_concurrency: number; lock_lifetime_ms: number };
  executions: {
    heartbeat_ms: number;
    dead_after_ms: number;
    check_every_ms: number;
    shutdown_grace_ms: number;
    max_output_chars: number;
  };
  leases: { ttl_ms: number; check_every_ms: number };
  rules: { system_user: string; emit_actiontrigger: boolean; store_unheard_actiontrigger: boolean };
  webhooks: {
    max_body_bytes: number;
    delivery_id_headers: string[];
    max_wait_seconds: number;
  };
  timers: {
    catch_up: 'skip' | 'once' | 'all';
    misfire_grace_ms: number;
    catch_up_limit: number;
    resync_interval_ms: number;
  };
  retention: {
    executions_days: number;
    execution_output_days: number;
    trigger_instances_days: number;
    rule_enforcements_days: number;
    traces_days: number;
    tokens_days: number;
    inquiries_days: number;
    executions_max_count: number;
    check_every_ms: number;
    batch_size: number;
    batch_pause_ms: number;
  };
  backpressure: { max_queue_depth: number; retry_after_seconds: number; refresh_ms: number };
  results: { max_inline_bytes: number; preview_bytes: number };
}

/** Bad configuration. The CLI exits with code 2 on it. */
export class ConfigError extends SquallError {
  constructor(message: string, context: Record<string, unknown> = {}) {
    super('CONFIG_INVALID', message, context, 500);
  }
}

export interface LoadConfigOptions {
  /** Path given with --config; when absent, ./squall.yaml is read if it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags; they win over the file and the environment. */
  overrides?: Record<string, unknown>;
  /** The flag each override came from (`api.port` → `--port`), named when its value is refused. */
  overrideFlags?: Record<string, string>;
  cwd?: string;
}

type SchemaNode = {
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  secret?: boolean;
};

/** Every leaf of the schema with its dotted path and environment variable name. */
export function configLeaves(): Array<{ path: string[]; env: string; schema: SchemaNode }> {
  const out: Array<{ path: string[]; env: string; schema: SchemaNode }> = [];
  const walk = (node: SchemaNode, at: string[]) => {
    if (node.type === 'object' && node.properties) {
      for (const [k, child] of Object.entries(node.properties)) walk(child, [...at, k]);
      return;
    }
    out.push({ path: at, env: 'SQUALL_' + at.join('_').toUpperCase(), schema: node });
  };
  walk(configSchema as unknown as SchemaNode, []);
  return out;
}

/** Aliases kept for convenience and for the issue tracker's examples. */
const ENV_ALIASES: Record<string, string> = { SQUALL_MONGO_URL: 'SQUALL_STORE_URL' };

function parseEnvValue(raw: string, schema: SchemaNode, name: string): unknown {
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || Number.isNaN(n)) {
        throw new ConfigError(
          `${name}: expected ${schema.type === 'integer' ? 'an integer' : 'a number'}, got "${raw}"`,
          { env: name, value: raw },
        );
      }
      return n;
    }
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new ConfigError(`${name}: expected a boolean (true/false), got "${raw}"`, {
        env: name,
        value: raw,
      });
    case 'array':
      if (raw.trim().startsWith('[')) {
        try {
          return JSON.parse(raw);
        } catch {
          throw new ConfigError(`${name}: expected a JSON array or a comma-separated list, got "${raw}"`, {
            env: name,
          });
        }
      }
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return raw;
  }
}

function setPath(target: Record<string, unknown>, at: string[], value: unknown): void {
  let node = target;
  for (const key of at.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[at[at.length - 1]] = value;
}

function describeError(e: ErrorObject, source: string): string {
  const key = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const full = key ? `${key}.${extra}` : extra;
      return `${source}: unknown key "${full}"`;
    }
    case 'type':
      return `${source}: ${key}: expected ${(e.params as { type: string }).type}, got ${JSON.stringify(e.data)}`;
    case 'enum':
      return `${source}: ${key}: ${JSON.stringify(e.data)} is not one of ${(
        e.params as { allowedValues: unknown[] }
      ).allowedValues
        .map((v) => JSON.stringify(v))
        .join(', ')}`;
    default:
      return `${source}: ${key || '(root)'}: ${JSON.stringify(e.data)} ${e.message}`;
  }
}

/** Why a config file could not be read, in words; a bare ENOENT meant nothing to a newcomer. */
const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

const validate = builtValidator({
  name: 'config',
  schema: configSchema,
  ajv: (extra) => new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true, ...extra }),
});

/**
 * Reads the config file, applies SQUALL_* environment variables, then command-line overrides,
 * and validates the result. Relative paths in the result are resolved against `cwd`.
 */
export function loadConfig(options: LoadConfigOptions = {}): {
  config: SquallConfig;
  file?: string;
  /** Set SQUALL_* variables that no key reads, each naming the likely intended one. */
  warnings: string[];
} {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  let file = options.file ?? env.SQUALL_CONFIG;
  if (!file && existsSync(path.join(cwd, 'squall.yaml'))) file = 'squall.yaml';
  let raw: Record<string, unknown> = {};
  const source = file ? path.resolve(cwd, file) : 'configuration';
  if (file) {
    const abs = path.resolve(cwd, file);
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code && READ_ERRORS[code] ? `${READ_ERRORS[code]} (${code})` : (code ?? String(err));
      throw new ConfigError(`cannot read config file ${abs}: ${why}`, { file: abs });
    }
    try {
      const parsed = loadYaml(text, { filename: abs });
      if (parsed !== undefined && parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
        throw new ConfigError(`${abs}: the config must be a mapping of keys to values`, { file: abs });
      }
      raw = (parsed as Record<string, unknown>) ?? {};
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      throw new ConfigError(`${abs}: invalid YAML: ${(err as Error).message}`, { file: abs });
    }
  }

  for (const [alias, canonical] of Object.entries(ENV_ALIASES)) {
    if (env[alias] !== undefined && env[canonical] === undefined) env[canonical] = env[alias];
  }
  // Where each value set outside the file came from: a refused one names its variable or flag,
  // not a file that may not even hold that key.
  const origins = new Map<string, string>();
  for (const leaf of configLeaves()) {
    const value = env[leaf.env];
    if (value === undefined) continue;
    setPath(raw, leaf.path, parseEnvValue(value, leaf.schema, leaf.env));
    origins.set(leaf.path.join('.'), leaf.env);
  }
  for (const [dotted, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) continue;
    setPath(raw, dotted.split('.'), value);
    origins.set(dotted, options.overrideFlags?.[dotted] ?? 'command line');
  }
  const originOf = (e: ErrorObject): string => {
    const at = e.instancePath.replace(/^\//, '').split('/');
    for (let n = at.length; n > 0; n--) {
      const origin = origins.get(at.slice(0, n).join('.'));
      if (origin) return origin;
    }
    return source;
  };

  const config = structuredClone(raw);
  if (!validate(config)) {
    const errors = (validate.errors ?? []).map((e) => describeError(e, originOf(e)));
    throw new ConfigError(errors.join('\n'), { file, errors: validate.errors });
  }
  const result = config as unknown as SquallConfig;
  result.data_dir = path.resolve(cwd, result.data_dir);
  result.packs.paths = result.packs.paths.map((p) => path.resolve(cwd, p));
  result.packs.install_dir = path.resolve(result.data_dir, result.packs.install_dir ?? 'packs');
  result.packs.config_dir = path.resolve(result.data_dir, result.packs.config_dir ?? 'configs');
  result.packs.virtualenvs_dir = path.resolve(result.data_dir, result.packs.virtualenvs_dir ?? 'virtualenvs');
  const known = [...configLeaves().map((l) => l.env), ...Object.keys(ENV_ALIASES)];
  const warnings = mistypedEnvNames(env, known).map(
    ({ name, closest }) => `${name} is not a Squall setting and is ignored: did you mean ${closest}?`,
  );
  return { config: result, file: file ? path.resolve(cwd, file) : undefined, warnings };
}

/** The effective config with every value the schema marks `secret` (and URLs' passwords) masked. */
export function maskConfig(config: SquallConfig): Record<string, unknown> {
  const masked = structuredClone(config) as unknown as Record<string, unknown>;
  for (const leaf of configLeaves()) {
    let node: Record<string, unknown> | undefined = masked;
    for (const key of leaf.path.slice(0, -1)) node = node?.[key] as Record<string, unknown> | undefined;
    const last = leaf.path[leaf.path.length - 1];
    if (!node || node[last] === undefined) continue;
    if (leaf.schema.secret) node[last] = '********';
    else if (typeof node[last] === 'string' && /^[a-z+]+:\/\/[^/]*:[^@/]*@/.test(node[last] as string)) {
      node[last] = (node[last] as string).replace(/:\/\/([^:/]*):[^@/]*@/, '://$1:********@');
    }
  }
  return masked;
}

/**
 * The versioned API URL st2 hands to workflows (`st2.api_url`) and actions (`ST2_ACTION_API_URL`):
 * st2's `get_full_public_api_url()`, i.e. `[auth] api_url` without its trailing slash plus `/v1`.
 * Unset, it is where Squall serves the API: `<api.url>/api/v1`.
 */
export function st2ApiUrl(config: Pick<SquallConfig, 'auth'>, apiUrl: string): string {
  const base = config.auth.api_url ?? `${apiUrl.replace(/\/+$/, '')}/api`;
  return `${base.replace(/\/+$/, '')}/v1`;
}
