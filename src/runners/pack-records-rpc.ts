import { SquallError } from '../errors.js';
import type { RunnerContext } from './types.js';

/**
 * The calls st2's `packs.unload` action makes on st2's database (st2common.persistence's
 * `<Model>.get_all(pack=…)`, `get_by_ref`, `delete`…), which the Python shim sends over its channel.
 * They go to Squall's API as the execution's user, with the execution's token, so RBAC decides
 * as for `squall pack remove`.
 */
export const PACK_RECORD_METHODS: ReadonlySet<string> = new Set(['pack_records', 'pack_record_delete']);

function text(args: Record<string, unknown>, key: string, method: string): string {
  const v = args[key];
  if (typeof v !== 'string' || v === '')
    throw new SquallError('PACK_RECORD_ARGUMENT', `${method}: "${key}" must be a non-empty string`, { key });
  return v;
}

async function callApi(
  ctx: Pick<RunnerContext, 'apiUrl' | 'authToken'>,
  method: 'GET' | 'DELETE',
  path: string,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${ctx.apiUrl.replace(/\/+$/, '')}/api/v1${path}`, {
    method,
    headers: { 'X-Auth-Token': ctx.authToken, accept: 'application/json' },
  });
  const raw = await res.text();
  let body: unknown = raw;
  try {
    body = raw ? JSON.parse(raw) : null;
  } catch {
    // not JSON: kept as text for the error below
  }
  return { status: res.status, body };
}

function failure(status: number, body: unknown): never {
  const b = body as { faultstring?: string; message?: string; code?: string } | null;
  const message = b?.faultstring ?? b?.message ?? (typeof body === 'string' ? body : JSON.stringify(body));
  throw new SquallError(b?.code ?? 'PACK_RECORD_API', `Squall API answered ${status}: ${message}`, {
    status,
  });
}

/**
 * `pack_records {pack}`: the pack's records by st2 model, or null when nothing is registered
 * for it (st2's queries then find nothing). `pack_record_delete {pack, model, id}`: whether the
 * record was there.
 */
export async function servePackRecordCall(
  ctx: Pick<RunnerContext, 'apiUrl' | 'authToken'>,
  method: string,
  rawArgs: unknown,
): Promise<unknown> {
  const args = (rawArgs && typeof rawArgs === 'object' ? rawArgs : {}) as Record<string, unknown>;
  const pack = encodeURIComponent(text(args, 'pack', method));
  if (method === 'pack_records') {
    const { status, body } = await callApi(ctx, 'GET', `/packs/${pack}/records`);
    if (status === 404) return null;
    if (status >= 400) failure(status, body);
    return body;
  }
  const model = encodeURIComponent(text(args, 'model', method));
  const id = encodeURIComponent(text(args, 'id', method));
  const { status, body } = await callApi(ctx, 'DELETE', `/packs/${pack}/records/${model}/${id}`);
  if (status >= 400) failure(status, body);
  return Boolean((body as { deleted?: boolean } | null)?.deleted);
}
