import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { SquallError } from '../errors.js';
import { loadYaml } from '../yaml.js';

export const DEFAULT_API_URL = 'http://127.0.0.1:9101';

/** Page size of `getAll`: st2's default max_page_size, which every user may ask for. */
const PAGE_SIZE = 100;

/** What `squall login` caches and what the CLI reads: ~/.config/squall/config.yaml. */
export interface CliConfig {
  url?: string;
  token?: string;
  user?: string;
  expiry?: string;
  api_key?: string;
}

export function cliConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'squall', 'config.yaml');
}

export function readCliConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const file = cliConfigPath(env);
  if (!existsSync(file)) return {};
  let doc: unknown;
  try {
    doc = loadYaml(readFileSync(file, 'utf8'), { filename: file });
  } catch (err) {
    throw new SquallError('CLI_CONFIG_INVALID', `${file}: invalid YAML: ${(err as Error).message}`, {
      file,
      hint: `fix or delete ${file}`,
    });
  }
  if (doc === undefined || doc === null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new SquallError('CLI_CONFIG_INVALID', `${file}: expected a mapping (url, token, ...)`, { file });
  }
  return doc as CliConfig;
}

/** Merges `changes` into the CLI config; the file is written with mode 0600 (it holds a token). */
export function writeCliConfig(changes: Partial<CliConfig>, env: NodeJS.ProcessEnv = process.env): string {
  const file = cliConfigPath(env);
  const current = readCliConfig(env);
  const next: Record<string, unknown> = { ...current, ...changes };
  for (const [k, v] of Object.entries(next)) if (v === undefined) delete next[k];
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, yaml.dump(next), { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

export interface ApiClientOptions {
  /** Wins over SQUALL_API_URL and the config file. */
  url?: string;
  token?: string;
  apiKey?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Skip the stored credentials (e.g. for login with basic auth). */
  anonymous?: boolean;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * The HTTP client of the `squall` CLI. URL and credentials come from the flags, then
 * SQUALL_API_URL / SQUALL_API_KEY / SQUALL_AUTH_TOKEN, then the CLI config file. Failures become
 * one-line SquallErrors with a hint the CLI prints under them.
 */
export class ApiClient {
  readonly url: string;
  readonly token?: string;
  readonly apiKey?: string;

  constructor(options: ApiClientOptions = {}) {
    const env = options.env ?? process.env;
    const file = readCliConfig(env);
    this.url = (options.url ?? env.SQUALL_API_URL ?? file.url ?? DEFAULT_API_URL).replace(/\/+$/, '');
    if (options.token || options.apiKey) {
      this.token = options.token;
      this.apiKey = options.apiKey;
    } else if (env.SQUALL_AUTH_TOKEN) {
      this.token = env.SQUALL_AUTH_TOKEN;
    } else if (env.SQUALL_API_KEY) {
      this.apiKey = env.SQUALL_API_KEY;
    } else if (sameServer(file.url, this.url)) {
      // A cached token belongs to the server it was issued by.
      this.token = file.token;
      this.apiKey = file.token ? undefined : file.api_key;
    }
  }

  async request<T = unknown>(
    method: string,
    pathname: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const target = new URL(this.url + pathname);
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== undefined) target.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
    if (!options.anonymous) {
      if (this.token) headers['X-Auth-Token'] = this.token;
      else if (this.apiKey) headers['St2-Api-Key'] = this.apiKey;
    }
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(target, {
        method: method.toUpperCase(),
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      const cause = c?.code ?? c?.message ?? (err as Error).message;
      throw new SquallError(
        'API_UNREACHABLE',
        `cannot reach Squall at ${this.url}: is \`squall start\` running? (${cause})`,
        { url: this.url, hint: 'pass --url or set SQUALL_API_URL to point at another server' },
      );
    }
    const text = await res.text();
    let body: unknown = text === '' ? undefined : text;
    if (text && (res.headers.get('content-type') ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        // keep the text
      }
    }
    if (res.status >= 400) throw apiError(res.status, body, method, target.pathname, this);
    return { status: res.status, headers: res.headers, body: body as T };
  }

  async get<T = unknown>(pathname: string, query?: RequestOptions['query']): Promise<T> {
    return (await this.request<T>('get', pathname, { query })).body;
  }

  /**
   * Every record of a st2 list endpoint, a page at a time: st2 answers `limit=-1` and pages above
   * api.max_page_size to admins only.
   */
  async getAll<T = unknown>(pathname: string, query: RequestOptions['query'] = {}): Promise<T[]> {
    const out: T[] = [];
    for (;;) {
      const page = await this.request<T[]>('get', pathname, {
        query: { ...query, limit: PAGE_SIZE, offset: out.length },
      });
      out.push(...page.body);
      const total = Number(page.headers.get('X-Total-Count') ?? out.length);
      if (page.body.length === 0 || out.length >= total) return out;
    }
  }

  async post<T = unknown>(pathname: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>('post', pathname, { ...options, body })).body;
  }

  async put<T = unknown>(pathname: string, body?: unknown, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>('put', pathname, { ...options, body })).body;
  }

  async delete<T = unknown>(pathname: string, query?: RequestOptions['query']): Promise<T> {
    return (await this.request<T>('delete', pathname, { query })).body;
  }

  /** `POST /auth/v1/tokens` with basic auth. */
  async login(
    user: string,
    password: string,
    ttl?: number,
  ): Promise<{ user: string; token: string; expiry: string; metadata: Record<string, unknown> }> {
    const basic = Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
    return this.post('/auth/v1/tokens', ttl ? { ttl } : {}, {
      anonymous: true,
      headers: { Authorization: `Basic ${basic}` },
    });
  }
}

function sameServer(a: string | undefined, b: string): boolean {
  if (!a) return true;
  return a.replace(/\/+$/, '') === b;
}

function apiError(
  status: number,
  body: unknown,
  method: string,
  pathname: string,
  client: ApiClient,
): SquallError {
  const fault =
    body && typeof body === 'object' && 'faultstring' in body
      ? String((body as { faultstring: unknown }).faultstring)
      : typeof body === 'string' && body
        ? body.slice(0, 300)
        : `${method.toUpperCase()} ${pathname} failed`;
  const code =
    body && typeof body === 'object' && 'code' in body
      ? String((body as { code: unknown }).code)
      : 'API_ERROR';
  const serverHint =
    body && typeof body === 'object' && 'hint' in body && typeof body.hint === 'string'
      ? body.hint
      : undefined;
  // 401 and 403 get the CLI's own next step (log in, ask for a role); otherwise the server's.
  const hint =
    status === 401
      ? client.token || client.apiKey
        ? 'your token may have expired: log in again with `squall login`'
        : 'log in with `squall login` (or set SQUALL_API_KEY / SQUALL_AUTH_TOKEN)'
      : status === 403
        ? 'ask an admin for a role that grants this (see `squall role list`)'
        : serverHint;
  return new SquallError(
    code,
    `${status}: ${fault}`,
    { status, path: pathname, ...(hint ? { hint } : {}) },
    status,
  );
}

/** Adds `--url` (the API to talk to) to a command. */
export function withClientOptions<C extends { option(flags: string, description: string): C }>(cmd: C): C {
  return cmd.option(
    '--url <url>',
    `Squall API base URL (default: SQUALL_API_URL, the CLI config, or ${DEFAULT_API_URL})`,
  );
}

export function clientFrom(opts: { url?: string }): ApiClient {
  return new ApiClient({ url: opts.url });
}
