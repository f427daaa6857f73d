import type { Request, Response } from 'express';
import { SquallError } from '../errors.js';
import type { Collection, Filter, SortSpec, StoredRecord } from '../store/index.js';

/** Query parameters every st2 list endpoint accepts. */
export const listQuerySchema = {
  limit: {
    type: 'integer',
    minimum: -1,
    description: 'Page size (st2: -1 for all, capped by api.max_page_size).',
  },
  offset: { type: 'integer', minimum: 0, default: 0, description: 'Number of records to skip.' },
  sort_asc: { type: 'boolean', description: 'Oldest first.' },
  sort_desc: { type: 'boolean', description: 'Newest first (default).' },
  include_attributes: { type: 'string', description: 'Comma-separated fields to return.' },
  exclude_attributes: { type: 'string', description: 'Comma-separated fields to leave out.' },
} as const;

/**
 * A time given in a query parameter (ISO 8601 or anything Date parses), as ISO 8601 UTC;
 * undefined when absent. Throws a 400 naming the parameter when it is not a time.
 */
export function queryTime(query: Record<string, unknown>, name: string): string | undefined {
  const raw = query[name];
  if (raw === undefined || raw === '') return undefined;
  const time = new Date(String(raw));
  if (Number.isNaN(time.getTime())) {
    throw new SquallError(
      'INVALID_QUERY',
      `query parameter "${name}" is not a time: ${JSON.stringify(String(raw).slice(0, 100))} (expected ISO 8601, e.g. 2024-05-01T12:00:00Z)`,
      { parameter: name },
      400,
    );
  }
  return time.toISOString();
}

export interface ListOptions<T> {
  collection: Collection<T & StoredRecord>;
  filter: Filter;
  sort: SortSpec;
  maxPageSize: number;
  present?: (record: T) => unknown;
}

/** st2's list conventions: limit/offset, X-Total-Count and X-Limit headers, attribute selection. */
export async function listRecords<T extends StoredRecord>(
  req: Request,
  res: Response,
  options: ListOptions<T>,
): Promise<unknown[]> {
  const q = req.query as Record<string, unknown>;
  const requested = q.limit === undefined ? options.maxPageSize : Number(q.limit);
  const limit = requested === -1 || requested > options.maxPageSize ? options.maxPageSize : requested;
  const offset = Number(q.offset ?? 0);
  let sort = options.sort;
  if (q.sort_asc === true || q.sort_asc === 'true')
    sort = Object.fromEntries(Object.entries(sort).map(([k]) => [k, 1])) as SortSpec;
  const [rows, total] = await Promise.all([
    options.collection.find(options.filter, { sort, skip: offset, limit }),
    options.collection.count(options.filter),
  ]);
  res.setHeader('X-Total-Count', String(total));
  res.setHeader('X-Limit', String(limit));
  const present = options.present ?? ((r: T) => r);
  return rows.map((r) =>
    selectAttributes(present(r as T), q.include_attributes as string, q.exclude_attributes as string),
  );
}

export function selectAttributes(record: unknown, include?: string, exclude?: string): unknown {
  if (!record || typeof record !== 'object') return record;
  const obj = record as Record<string, unknown>;
  if (include) {
    const fields = include.split(',').map((s) => s.trim());
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const [top, ...rest] = f.split('.');
      if (!(top in obj)) continue;
      if (rest.length === 0) out[top] = obj[top];
      else {
        const nested = selectAttributes(obj[top], rest.join('.')) as Record<string, unknown>;
        out[top] = { ...((out[top] as object) ?? {}), ...nested };
      }
    }
    if ('id' in obj) out.id = obj.id;
    return out;
  }
  if (exclude) {
    const out = { ...obj };
    for (const f of exclude.split(',')) delete out[f.trim()];
    return out;
  }
  return obj;
}

/** The authenticated user of a request (set by the auth middleware), or the system user. */
export function requestUser(req: Request): { name: string; roles: string[] } {
  const auth = (req as Request & { auth?: { user: string; roles?: string[] } }).auth;
  return auth ? { name: auth.user, roles: auth.roles ?? [] } : { name: 'stanley', roles: ['admin'] };
}
