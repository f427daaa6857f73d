/**
 * Whether templates in these values can reach the datastore: through `st2kv`, or `decrypt_kv`
 * (whose rights are decided by which key a ciphertext came from). Templates reach the datastore
 * by name only, so without either word the snapshot (a read of every live key) is not needed.
 */
export function mentionsDatastore(...values: unknown[]): boolean {
  return values.some((v) => {
    if (v === undefined || v === null) return false;
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    return text.includes('st2kv') || text.includes('decrypt_kv');
  });
}
