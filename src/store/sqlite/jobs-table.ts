import { createRequire } from 'node:module';
import type { Sqlite } from './database.js';

type Doc = Record<string, unknown>;

const require = createRequire(import.meta.url);
const nedbModel = require('@seald-io/nedb/lib/model.js') as {
  match(doc: Doc, query: Doc): boolean;
};

/** A Date as nedb's serializer writes it, so the job rows nedb wrote before still read back. */
function dateReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  return raw instanceof Date ? { $$date: raw.getTime() } : value;
}

/** Met by nedbDates at a value only the replacer handles (a class instance, a Buffer, a cycle). */
const NOT_PLAIN = Symbol('not plain data');

/**
 * The document with each Date as `{$$date: ms}`, copied only along the paths that hold one, for a
 * plain JSON.stringify: the same text as dateReplacer writes, ~3x faster (a replacer takes
 * stringify off its fast path and calls back for every key). Throws NOT_PLAIN at anything but
 * plain objects, arrays and Dates.
 */
function nedbDates(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return { $$date: value.getTime() };
  if (depth > 32) throw NOT_PLAIN;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const c = nedbDates(v, depth + 1);
      if (c !== v) (out ??= value.slice())[i] = c;
    }
    return out ?? value;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN;
  let out: Doc | undefined;
  for (const k in value) {
    const v = (value as Doc)[k];
    const c = nedbDates(v, depth + 1);
    if (c !== v) (out ??= { ...(value as Doc) })[k] = c;
  }
  return out ?? value;
}

function serialize(doc: unknown): string {
  let plain: unknown;
  try {
    plain = nedbDates(doc, 0);
  } catch (err) {
    if (err !== NOT_PLAIN) throw err;
    return JSON.stringify(doc, dateReplacer);
  }
  return JSON.stringify(plain);
}

/** Turns nedb's `{$$date}` back into Dates, in place (the document was just parsed). */
function reviveDates(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveDates(value[i]);
    return value;
  }
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Doc;
  if ('$$date' in obj) return new Date(obj.$$date as number);
  for (const k of Object.keys(obj)) obj[k] = reviveDates(obj[k]);
  return obj;
}

/**
 * Agenda's jobs hold Dates, stored as nedb stores them (`{"$$date": ms}`). nedb's own
 * serialize/deserialize (a replacer that checks every key, a reviver per value) were ~4% of a
 * webhook's CPU for the ~10 job reads and writes of each; these write and read the same text.
 */
export const jobModel = {
  serialize,
  deserialize: (text: string): Doc => reviveDates(JSON.parse(text)) as Doc,
  match: (doc: Doc, query: Doc): boolean => nedbModel.match(doc, query),
};

/** The table of Agenda's jobs; its columns are what the scheduler's queries select and order by. */
export const JOBS_TABLE = 'agenda_jobs';

export function createJobsTable(db: Sqlite): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${JOBS_TABLE} (
      id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL, type TEXT, next_run_at INTEGER,
      locked_at INTEGER, priority INTEGER NOT NULL DEFAULT 0, disabled INTEGER NOT NULL DEFAULT 0,
      doc TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS ${JOBS_TABLE}__next ON ${JOBS_TABLE} (name, next_run_at, priority DESC);
    CREATE INDEX IF NOT EXISTS ${JOBS_TABLE}__locked ON ${JOBS_TABLE} (name, locked_at);`);
}

function millis(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const t = v instanceof Date ? v.getTime() : new Date(v as string).getTime();
  return Number.isNaN(t) ? null : t;
}

const PUT = `INSERT INTO ${JOBS_TABLE} (id, name, type, next_run_at, locked_at, priority, disabled, doc)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT(id) DO UPDATE SET name = excluded.name, type = excluded.type,
    next_run_at = excluded.next_run_at, locked_at = excluded.locked_at,
    priority = excluded.priority, disabled = excluded.disabled, doc = excluded.doc`;

/** The statement's parameters that write a job: its whole document and the columns derived from it. */
export function jobRow(doc: Doc): unknown[] {
  return [
    String(doc._id),
    String(doc.name),
    typeof doc.type === 'string' ? doc.type : null,
    millis(doc.nextRunAt),
    millis(doc.lockedAt),
    typeof doc.priority === 'number' ? doc.priority : 0,
    doc.disabled === true ? 1 : 0,
    jobModel.serialize(doc),
  ];
}

export const PUT_JOB_SQL = PUT;
