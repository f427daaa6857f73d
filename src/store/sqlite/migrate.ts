import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SquallError } from '../../errors.js';
import { COLLECTIONS } from '../collections.js';
import type { CollectionSpec } from '../types.js';
import type { SqliteDatabase } from './database.js';
import { JOBS_TABLE, PUT_JOB_SQL, createJobsTable, jobModel, jobRow } from './jobs-table.js';

type Doc = Record<string, unknown>;

/** The folder the nedb store (Squall before 0.2) kept its files in, under the data directory. */
export const NEDB_DIR = 'db';
/** Where that folder is moved once imported: kept, never deleted. */
export const NEDB_KEPT_DIR = 'db.nedb-imported';

export interface MigrationProgress {
  file: string;
  /** Records of this file imported (live records: nedb's file also holds superseded versions). */
  records: number;
  fileIndex: number;
  files: number;
}

export interface DamagedLine {
  file: string;
  line: number;
  text: string;
  reason: string;
}

export interface MigrationResult {
  files: number;
  records: number;
  damaged: DamagedLine[];
  keptAt: string;
}

/**
 * The live records of one nedb file: nedb appends every version of a record and a `$$deleted`
 * line for each removal, and the last line about an id wins. A line that does not parse is
 * damage: reported by file and line, never dropped in silence.
 */
export function readNedbFile(file: string): { docs: Map<string, Doc>; damaged: DamagedLine[] } {
  const docs = new Map<string, Doc>();
  const damaged: DamagedLine[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((text, i) => {
    if (text.trim() === '') return;
    const at = { file, line: i + 1, text: text.length > 200 ? `${text.slice(0, 200)}…` : text };
    let doc: Doc;
    try {
      doc = jobModel.deserialize(text);
    } catch (err) {
      damaged.push({ ...at, reason: (err as Error).message });
      return;
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
      damaged.push({ ...at, reason: 'not a record' });
      return;
    }
    if ('$$indexCreated' in doc || '$$indexRemoved' in doc) return;
    if (typeof doc._id !== 'string' && typeof doc._id !== 'number') {
      damaged.push({ ...at, reason: 'record without an _id' });
      return;
    }
    const id = String(doc._id);
    if (doc.$$deleted === true) docs.delete(id);
    else docs.set(id, doc);
  });
  return { docs, damaged };
}

function describeDamage(damaged: DamagedLine[]): string {
  const shown = damaged.slice(0, 10).map((d) => `${d.file}:${d.line} (${d.reason})`);
  if (damaged.length > 10) shown.push(`… and ${damaged.length - 10} more`);
  return shown.join('; ');
}

/**
 * Imports a data directory written by the nedb store into SQLite, in one transaction: either every
 * record is in, or none is (and the nedb files are untouched). Damaged lines stop the import unless
 * `skipDamaged`, and then they are saved beside the kept files in damaged-lines.txt.
 */
export async function importNedb(
  dataDir: string,
  database: SqliteDatabase,
  options: { skipDamaged?: boolean; onProgress?: (p: MigrationProgress) => void } = {},
): Promise<MigrationResult | undefined> {
  const legacy = path.join(dataDir, NEDB_DIR);
  if (!existsSync(legacy)) return undefined;
  const files = readdirSync(legacy)
    .filter((f) => f.endsWith('.db'))
    .sort();
  const keptAt = keptAside(dataDir);
  if (files.length === 0) return undefined;
  const done = database.db.prepare(`SELECT value FROM squall_meta WHERE key = 'nedb_import'`).get() as
    { value: string } | undefined;
  if (done) {
    // Imported before a crash kept the folder from being moved: finish the move only.
    renameSync(legacy, keptAt);
    return undefined;
  }

  const byTable = new Map<string, CollectionSpec>(
    Object.values(COLLECTIONS).map((s) => [s.name, s as CollectionSpec]),
  );
  const read = files.map((f) => ({ name: f.slice(0, -3), ...readNedbFile(path.join(legacy, f)) }));
  const damaged = read.flatMap((r) => r.damaged);
  if (damaged.length > 0 && !options.skipDamaged) {
    throw new SquallError(
      'STORE_MIGRATION_DAMAGED',
      `the old store in ${legacy} has damaged records: ${describeDamage(damaged)}. Nothing was imported ` +
        `and the files are untouched. Repair or remove those lines, or run "squall store migrate ` +
        `--skip-damaged" to import the rest (the damaged lines are then saved in ${keptAt}/damaged-lines.txt).`,
      { dir: legacy, damaged: damaged.slice(0, 100) },
    );
  }

  let records = 0;
  await database.write(() => {
    read.forEach((file, i) => {
      const { db } = database;
      if (file.name === JOBS_TABLE) {
        createJobsTable(db);
        const put = db.prepare(PUT_JOB_SQL);
        for (const doc of file.docs.values()) put.run(...jobRow(doc));
      } else {
        const spec = byTable.get(file.name) ?? { name: file.name, indexes: [] };
        database.ensureTable(spec);
        const insert = db.prepare(
          `INSERT INTO "${spec.name.replace(/"/g, '""')}" (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc`,
        );
        for (const [id, { _id, ...rest }] of file.docs) {
          void _id;
          insert.run(id, JSON.stringify(rest));
        }
      }
      records += file.docs.size;
      options.onProgress?.({
        file: `${file.name}.db`,
        records: file.docs.size,
        fileIndex: i + 1,
        files: read.length,
      });
    });
    database.db
      .prepare(`INSERT INTO squall_meta (key, value) VALUES ('nedb_import', ?)`)
      .run(JSON.stringify({ at: new Date().toISOString(), files: read.length, records }));
  });
  renameSync(legacy, keptAt);
  if (damaged.length > 0) {
    writeFileSync(
      path.join(keptAt, 'damaged-lines.txt'),
      damaged.map((d) => `${path.basename(d.file)}:${d.line}\t${d.reason}\t${d.text}`).join('\n') + '\n',
      { mode: 0o600 },
    );
  }
  return { files: read.length, records, damaged, keptAt };
}

/** A folder name for the imported nedb files that does not overwrite an earlier one. */
function keptAside(dataDir: string): string {
  let out = path.join(dataDir, NEDB_KEPT_DIR);
  for (let n = 2; existsSync(out); n++) out = path.join(dataDir, `${NEDB_KEPT_DIR}.${n}`);
  return out;
}

/** At start: imports a nedb data directory once, reporting progress. */
export async function importNedbIfPresent(
  dataDir: string,
  database: SqliteDatabase,
  onProgress?: (p: MigrationProgress) => void,
): Promise<MigrationResult | undefined> {
  return importNedb(dataDir, database, { onProgress });
}
