// The public surface of src/store/sqlite: other folders import it from here.
export { STORE_FILE, SqliteDatabase } from './database.js';
export { modifyOwned } from './collection.js';
export { JOBS_TABLE, PUT_JOB_SQL, createJobsTable, jobModel, jobRow } from './jobs-table.js';
export { NEDB_DIR, NEDB_KEPT_DIR, importNedb, importNedbIfPresent, readNedbFile } from './migrate.js';
export type { DamagedLine, MigrationProgress, MigrationResult } from './migrate.js';
