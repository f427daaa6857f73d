/**
 * FerretDB on SQLite answers "database is locked" (SQLITE_BUSY) when several processes write at
 * once; the statement did not run, so it is safe to try again after a short pause.
 */
export function isTransient(err: unknown): boolean {
  return /database is locked|SQLITE_BUSY/i.test(String((err as Error)?.message ?? ''));
}

/** Runs `op`, again after a growing pause (up to 8 times) while it fails with a transient error. */
export async function retryingTransient<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (!isTransient(err) || attempt >= 8) throw err;
      await new Promise((r) => setTimeout(r, 10 * 2 ** attempt + Math.random() * 10));
    }
  }
}
