/** The Squall API as the UI uses it: same origin, the HttpOnly `auth-token` cookie, st2 error bodies. */

// Response shapes the server declares once (a types-only file: nothing of it reaches the bundle).
export type { TraceNode, TraceTree } from '../../api-types';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly code?: string,
    readonly requestId?: string,
    /** The next step the server suggests (which command lists what exists, which key to set). */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiResponse<T> {
  data: T;
  headers: Headers;
  status: number;
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when any request answers 401: the session is gone, show the login page. */
export function onUnauthorized(fn: Listener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export async function request<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  init: { headers?: Record<string, string>; raw?: boolean; signal?: AbortSignal } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...init.headers };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: init.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(`cannot reach the server (${(err as Error).message})`, 0, method, path);
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text || res.statusText;
    let code: string | undefined;
    let hint: string | undefined;
    let requestId = res.headers.get('X-Request-ID') ?? undefined;
    try {
      const parsed = JSON.parse(text) as {
        faultstring?: string;
        code?: string;
        hint?: unknown;
        request_id?: string;
      };
      if (parsed.faultstring) message = parsed.faultstring;
      code = parsed.code;
      if (typeof parsed.hint === 'string') hint = parsed.hint;
      requestId = parsed.request_id ?? requestId;
    } catch {
      // not JSON: keep the text
    }
    if (res.status === 401 && !path.startsWith('/auth/v1/tokens')) {
      localStorage.removeItem(SESSION_MARK);
      for (const fn of unauthorizedListeners) fn();
    }
    throw new ApiError(message, res.status, method, path, code, requestId, hint);
  }
  if (init.raw) return { data: text as T, headers: res.headers, status: res.status };
  const data = (text ? JSON.parse(text) : undefined) as T;
  return { data, headers: res.headers, status: res.status };
}

export const get = <T = unknown>(path: string, signal?: AbortSignal) =>
  request<T>('GET', path, undefined, { signal }).then((r) => r.data);
export const post = <T = unknown>(path: string, body?: unknown) =>
  request<T>('POST', path, body ?? {}).then((r) => r.data);
export const put = <T = unknown>(path: string, body?: unknown) =>
  request<T>('PUT', path, body ?? {}).then((r) => r.data);
export const del = <T = unknown>(path: string) => request<T>('DELETE', path).then((r) => r.data);

/** Every page of a st2 list endpoint (pages are capped by the server's max_page_size). */
export async function getAll<T>(path: string, max = 5000): Promise<T[]> {
  const out: T[] = [];
  const sep = path.includes('?') ? '&' : '?';
  for (;;) {
    const r = await request<T[]>('GET', `${path}${sep}limit=100&offset=${out.length}`);
    out.push(...r.data);
    const total = Number(r.headers.get('X-Total-Count') ?? out.length);
    if (r.data.length === 0 || out.length >= total || out.length >= max) return out;
  }
}

export function qs(params: Record<string, string | number | boolean | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export interface CurrentUser {
  username: string;
  rbac: { enabled: boolean; roles: string[]; is_admin: boolean };
}

/**
 * The token lives in the server's HttpOnly cookie, out of reach of scripts. This mark only
 * remembers that a login happened, so a first visit shows the login page without a 401.
 */
const SESSION_MARK = 'squall-signed-in';
export const maybeSignedIn = () => localStorage.getItem(SESSION_MARK) === '1';

export async function login(username: string, password: string): Promise<void> {
  await request(
    'POST',
    '/auth/v1/tokens',
    {},
    { headers: { Authorization: `Basic ${btoa(`${username}:${password}`)}` } },
  );
  localStorage.setItem(SESSION_MARK, '1');
}

export async function logout(): Promise<void> {
  localStorage.removeItem(SESSION_MARK);
  await request('DELETE', '/auth/v1/tokens').catch(() => undefined);
}

export interface Execution {
  id: string;
  action: {
    ref: string;
    name?: string;
    pack?: string;
    runner_type?: string;
    parameters?: Record<string, ParamSpec>;
    description?: string;
  };
  runner?: { name: string };
  status: string;
  start_timestamp: string;
  end_timestamp?: string;
  elapsed_seconds?: number;
  parameters?: Record<string, unknown>;
  context?: Record<string, unknown> & {
    user?: string;
    trace_context?: Record<string, unknown>;
    parent?: Record<string, unknown>;
  };
  result?: unknown;
  parent?: string;
  children?: string[];
  log?: { status: string; timestamp: string; reason?: string }[];
  rule?: { ref?: string; id?: string };
  trigger?: { ref?: string; type?: string };
  trigger_instance?: { id?: string };
  trigger_type?: { ref?: string };
}

export interface ParamSpec {
  type?: string | string[];
  description?: string;
  required?: boolean;
  default?: unknown;
  enum?: unknown[];
  secret?: boolean;
  immutable?: boolean;
  position?: number;
  items?: { type?: string; enum?: unknown[] };
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  properties?: Record<string, ParamSpec>;
}

export const COMPLETED = new Set(['succeeded', 'failed', 'timeout', 'canceled', 'abandoned']);
export const CANCELABLE = new Set([
  'requested',
  'scheduled',
  'delayed',
  'running',
  'pausing',
  'paused',
  'resuming',
  'pending',
]);
export const STATUSES = [
  'requested',
  'scheduled',
  'delayed',
  'running',
  'succeeded',
  'failed',
  'timeout',
  'abandoned',
  'canceling',
  'canceled',
  'pending',
  'pausing',
  'paused',
  'resuming',
];
export const WORKFLOW_RUNNERS = new Set(['orquesta', 'action-chain']);
