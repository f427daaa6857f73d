import type { Request, Response } from 'express';
import { isAdmin } from '../auth/index.js';
import { PermissionError, SquallError, ValidationError } from '../errors.js';
import type { Collection, Filter, SortSpec, StoredRecord } from '../store/index.js';

/** Query parameters every st2 list endpoint accepts. */
export const listQuerySchema = {
  limit: {
    type: 'integer',
    description: 'Page size; -1 for all (admins only). Above api.max_page_size only for admins, as in st2.',
  },
  offset: {
    type: 'integer',
    minimum: 0,
    maximum: Number.MAX_SAFE_INTEGER,
    default: 0,
    description: 'Number of records to skip.',
  },
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
  /** What the list reads: a collection, or a reader over one (triggerInstanceReads). */
  collection: Pick<Collection<T & StoredRecord>, 'find' | 'count'>;
  filter: Filter;
  sort: SortSpec;
  maxPageSize: number;
  /**
   * The largest page even an admin gets (limit=-1 and limits above maxPageSize included);
   * absent or 0: none. The answer's X-Limit says when it applied.
   */
  maxAdminPageSize?: number;
  /**
   * The page size when the request names none, from st2's openapi.yaml: 100 for most lists;
   * `null` where st2 declares no default and answers everything (actions, rules, sensortypes).
   */
  defaultLimit?: number | null;
  /** How a record is shown, before attribute selection (which may leave out what it reads). */
  present?: (record: T) => unknown;
  /**
   * The resource's fields, as st2's model has them: include_attributes or exclude_attributes naming
   * another field is refused (400), as st2 does. Absent: any name is taken (and matches nothing).
   */
  attributes?: ReadonlySet<string>;
  /**
   * How a whole page is shown (one read for the page's related records, not one per record); wins
   * over present. `selection` is the request's attribute selection (shows() tells what it keeps).
   */
  presentPage?: (records: T[], selection: AttributeSelection) => Promise<unknown[]>;
  /**
   * The direction when the request sets neither sort_asc nor sort_desc: true sorts every key of `sort` ascending
   * (st2's executions answer oldest first for `timestamp_gt` alone).
   */
  ascending?: boolean;
}

/** A boolean query flag as st2's Python client sends it (`True`) or as ajv coerced it. */
export function queryFlag(value: unknown): boolean {
  return value === true || value === 'true' || value === 'True' || value === '1';
}

/** st2's default page size of a list endpoint that declares one. */
export const DEFAULT_PAGE_SIZE = 100;

/**
 * The page size of a list request, as st2's `validate_limit_query_param` decides it: `undefined`
 * means all records. `-1` asks for all and a limit above api.max_page_size is allowed, both for
 * admins only (403 otherwise); 0 and values below -1 are a 400. With `maxAdminPageSize`, a page
 * (for an admin: "all" too) is no larger than it.
 */
export function pageLimit(
  req: Request,
  maxPageSize: number,
  defaultLimit: number | null = DEFAULT_PAGE_SIZE,
  maxAdminPageSize = 0,
): number | undefined {
  const limit = requestedLimit(req, maxPageSize, defaultLimit);
  if (!maxAdminPageSize) return limit;
  return limit === undefined ? maxAdminPageSize : Math.min(limit, maxAdminPageSize);
}

function requestedLimit(req: Request, maxPageSize: number, defaultLimit: number | null): number | undefined {
  const raw = (req.query as Record<string, unknown>).limit;
  if (raw === undefined) return defaultLimit === null ? undefined : defaultLimit;
  const limit = Number(raw);
  const admin = isAdmin(requestUser(req));
  if (limit === -1) {
    if (!admin)
      throw new PermissionError(
        'Administrator access required to be able to specify limit=-1 and retrieve all the records',
        { limit },
      );
    return undefined;
  }
  if (limit === 0)
    throw new ValidationError(
      `Limit, "${limit}" specified, must be a positive number or -1 for full result set.`,
      { field: 'limit' },
    );
  if (limit <= -2)
    throw new ValidationError(`Limit, "${limit}" specified, must be a positive number.`, { field: 'limit' });
  if (limit > maxPageSize && !admin)
    throw new PermissionError(`Limit "${limit}" specified, maximum value is "${maxPageSize}"`, {
      limit,
      max_page_size: maxPageSize,
    });
  return limit;
}

/** st2's list conventions: limit/offset, X-Total-Count and X-Limit headers, attribute selection. */
export async function listRecords<T extends StoredRecord>(
  req: Request,
  res: Response,
  options: ListOptions<T>,
): Promise<unknown[]> {
  const q = req.query as Record<string, unknown>;
  const selection = attributeSelection(q);
  if (options.attributes) checkAttributes(options.attributes, selection);
  const limit = pageLimit(req, options.maxPageSize, options.defaultLimit, options.maxAdminPageSize);
  const offset = Number(q.offset ?? 0);
  let sort = options.sort;
  // st2: sort_desc wins over sort_asc; `st2 execution list --sort asc` sends sort_asc=True.
  const ascending = queryFlag(q.sort_desc) ? false : queryFlag(q.sort_asc) || options.ascending === true;
  if (ascending) sort = Object.fromEntries(Object.entries(sort).map(([k]) => [k, 1])) as SortSpec;
  const [rows, total] = await Promise.all([
    options.collection.find(options.filter, {
      sort,
      skip: offset,
      ...(limit === undefined ? {} : { limit }),
    }),
    options.collection.count(options.filter),
  ]);
  res.setHeader('X-Total-Count', String(total));
  // st2 sends X-Limit only for a bounded page.
  if (limit !== undefined) res.setHeader('X-Limit', String(limit));
  const present = options.present ?? ((r: T) => r);
  const shown = options.presentPage
    ? await options.presentPage(rows as T[], selection)
    : await Promise.all(rows.map((r) => present(r as T)));
  return shown.map((r) => selectAttributes(r, selection));
}

/** A request's include_attributes and exclude_attributes: comma-separated paths, split once. */
export interface AttributeSelection {
  /** Empty: every field (less `exclude`). */
  include: string[];
  exclude: string[];
}

export function attributeSelection(query: Record<string, unknown>): AttributeSelection {
  const paths = (list: unknown) =>
    list
      ? String(list)
          .split(',')
          .map((s) => s.trim())
      : [];
  return { include: paths(query.include_attributes), exclude: paths(query.exclude_attributes) };
}

/** The fields a record type names (its index signature, `[field: string]`, left out). */
type DeclaredFields<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };

/**
 * `true` when every field `Record` names is in `Fields`, else the names missing from it: a
 * resource's `const _listed: EveryFieldListed<ItsRecord, ItsField> = true` does not compile when
 * a field the record type gained is not in the resource's field list.
 */
export type EveryFieldListed<Record, Fields extends string> = [
  Exclude<DeclaredFields<Record>, Fields>,
] extends [never]
  ? true
  : Exclude<DeclaredFields<Record>, Fields>;

/**
 * Refuses an include or exclude attribute whose top-level name is not one of the resource's fields,
 * with st2's message (`st2 execution list --attr doesntexist` fails, naming it).
 */
export function checkAttributes(known: ReadonlySet<string>, selection: AttributeSelection): void {
  for (const kind of ['include', 'exclude'] as const) {
    for (const name of selection[kind]) {
      const top = name.split('.')[0];
      if (top && !known.has(top))
        throw new ValidationError(`Invalid or unsupported ${kind} attribute specified: ${top}`, {
          field: `${kind}_attributes`,
          attribute: top,
        });
    }
  }
}

/** Whether selectAttributes, given the request's include/exclude_attributes, keeps the top-level `field`. */
export function shows(selection: AttributeSelection, field: string): boolean {
  const tops = (paths: string[]) => paths.map((p) => p.split('.')[0]);
  if (selection.include.length) return tops(selection.include).includes(field);
  return !tops(selection.exclude).includes(field);
}

export function selectAttributes(record: unknown, { include, exclude }: AttributeSelection): unknown {
  if (!record || typeof record !== 'object') return record;
  const obj = record as Record<string, unknown>;
  if (include.length) {
    const out: Record<string, unknown> = {};
    for (const f of include) {
      const [top, ...rest] = f.split('.');
      if (!(top in obj)) continue;
      if (rest.length === 0) out[top] = obj[top];
      else {
        const nested = selectAttributes(obj[top], { include: [rest.join('.')], exclude: [] });
        out[top] = { ...((out[top] as object) ?? {}), ...(nested as Record<string, unknown>) };
      }
    }
    if ('id' in obj) out.id = obj.id;
    return out;
  }
  if (exclude.length) {
    const out = { ...obj };
    for (const f of exclude) delete out[f];
    return out;
  }
  return obj;
}

/** The authenticated user of a request (set by the auth middleware), or the system user. */
export function requestUser(req: Request): { name: string; roles: string[] } {
  const auth = (req as Request & { auth?: { user: string; roles?: string[] } }).auth;
  return auth ? { name: auth.user, roles: auth.roles ?? [] } : { name: 'stanley', roles: ['admin'] };
}
