import { statSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decryptValue, encryptValue, loadOrCreateKey } from '../../../src/kv/index.js';
import { tempDir } from '../../support/servers.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function keyFile(): string {
  const t = tempDir('squall-kv-key-');
  cleanups.push(t.cleanup);
  return path.join(t.dir, 'keys', 'datastore.key');
}

describe('datastore key file', () => {
  it('is generated on first use with mode 0600 and read back unchanged', () => {
    const file = keyFile();
    const first = loadOrCreateKey(file);
    expect(first.created).toBe(true);
    expect(first.key).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = loadOrCreateKey(file);
    expect(again.created).toBe(false);
    expect(again.key.equals(first.key)).toBe(true);
  });

  it('refuses a key file other users can read', () => {
    const file = keyFile();
    loadOrCreateKey(file);
    chmodSync(file, 0o644);
    expect(() => loadOrCreateKey(file)).toThrow(/readable by other users.*chmod 600/);
  });

  it('names the file when its content is not a key', () => {
    const file = keyFile();
    loadOrCreateKey(file);
    writeFileSync(file, JSON.stringify({ aesKeyString: 'abc' }));
    expect(() => loadOrCreateKey(file)).toThrow(
      new RegExp(`${file.replace(/[.]/g, '\\.')}: aesKeyString must be 64 hex digits`),
    );
  });
});

describe('AES-256-GCM values', () => {
  it('round-trips text, including non-ASCII', () => {
    const { key } = loadOrCreateKey(keyFile());
    for (const text of ['', 'hunter2', 'päss wörd ✓', 'x'.repeat(10_000)]) {
      const c = encryptValue(key, text);
      expect(c).toMatch(/^[0-9A-F]+$/);
      if (text) expect(c).not.toContain(Buffer.from(text).toString('hex').toUpperCase());
      expect(decryptValue(key, c)).toBe(text);
    }
  });

  it('encrypts the same text differently each time', () => {
    const { key } = loadOrCreateKey(keyFile());
    expect(encryptValue(key, 'same')).not.toBe(encryptValue(key, 'same'));
  });

  it('detects a tampered ciphertext', () => {
    const { key } = loadOrCreateKey(keyFile());
    const c = encryptValue(key, 'transfer 10 EUR');
    const i = 30; // inside the encrypted body
    const flipped = c.slice(0, i) + (c[i] === 'A' ? 'B' : 'A') + c.slice(i + 1);
    expect(() => decryptValue(key, flipped, 'bank')).toThrow(
      /cannot decrypt secret "bank": the ciphertext was altered/,
    );
  });

  it('fails with another key', () => {
    const { key } = loadOrCreateKey(keyFile());
    const { key: other } = loadOrCreateKey(keyFile());
    expect(() => decryptValue(other, encryptValue(key, 'x'))).toThrow(/another key/);
  });

  it('rejects values that are not ciphertext', () => {
    const { key } = loadOrCreateKey(keyFile());
    expect(() => decryptValue(key, 'not hex!')).toThrow(/not a Squall ciphertext/);
    expect(() => decryptValue(key, 'ABCD')).toThrow(/too short/);
  });
});
