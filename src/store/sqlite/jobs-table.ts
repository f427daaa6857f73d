import { createRequire } from 'node:module';
import type { Sqlite } from './database.js';

type Doc = Record<string, unknown>;

const require = createRequire(import.meta.url);
/** nedb's serializer keeps Dates as {$$date}: Agenda's jobs hold Dates. */
export const jobModel = require('@seald-io/nedb/lib/model.js') as {
  serialize(doc: unknown): string;
  deserialize(text: string): Doc;
  match(doc: Doc, query: Doc): boolean;
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
