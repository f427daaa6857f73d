import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { newId } from '../../src/ids.js';

/** Set by CI: a suite that needs a missing server fails instead of being skipped. */
export const REQUIRE_ALL = process.env.SQUALL_REQUIRE_ALL === '1';
export const MONGO_URL = process.env.SQUALL_TEST_MONGO_URL;
export const REDIS_URL = process.env.SQUALL_TEST_REDIS_URL;

/**
 * describe() for a suite that needs a server. Without the server it is skipped under a name that
 * says what is missing, or fails under SQUALL_REQUIRE_ALL=1.
 */
export function describeWithServer(name: string, server: string, available: boolean, body: () => void): void {
  if (available) {
    describe(name, body);
  } else if (REQUIRE_ALL) {
    describe(name, () => {
      it(`needs ${server}`, () => {
        throw new Error(`${server} is required (SQUALL_REQUIRE_ALL=1) but not available`);
      });
    });
  } else {
    describe.skip(`${name} [skipped: ${server} not available]`, body);
  }
}

/** it() for a test that needs a server: skipped under a name saying what is missing, or failing under SQUALL_REQUIRE_ALL=1. */
export function itWithServer(
  name: string,
  server: string,
  available: boolean,
  body: () => Promise<void> | void,
  timeoutMs?: number,
): void {
  if (available) it(name, body, timeoutMs);
  else if (REQUIRE_ALL)
    it(`${name} (needs ${server})`, () => {
      throw new Error(`${server} is required (SQUALL_REQUIRE_ALL=1) but not available`);
    });
  else it.skip(`${name} [skipped: ${server} not available]`, body);
}

export function tempDir(prefix = 'squall-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh Mongo URL (own database) on the test server, so suites never see each other's data. */
export function freshMongoUrl(): string {
  if (!MONGO_URL) throw new Error('SQUALL_TEST_MONGO_URL is not set');
  const url = new URL(MONGO_URL);
  url.pathname = `/squall_test_${newId()}`;
  return url.toString();
}

export interface StoreTarget {
  kind: 'embedded' | 'mongo';
  available: boolean;
  /** Opens a store; `location` reopens the same data (a dataDir or a Mongo URL). */
  open(location?: string): Promise<{ store: Store; location: string }>;
}

export const STORE_TARGETS: StoreTarget[] = [
  {
    kind: 'embedded',
    available: true,
    async open(location) {
      const dir = location ?? tempDir().dir;
      return { store: await openStore({ dataDir: dir }), location: dir };
    },
  },
  {
    kind: 'mongo',
    available: Boolean(MONGO_URL),
    async open(location) {
      const url = location ?? freshMongoUrl();
      return { store: await openStore({ dataDir: tempDir().dir, mongoUrl: url }), location: url };
    },
  },
];

/**
 * One describe per store (embedded, MongoDB), titled `<title> (<kind>)`. The MongoDB one is
 * skipped saying so without SQUALL_TEST_MONGO_URL (a failure under SQUALL_REQUIRE_ALL=1); `also`
 * is a further need of both (a tool), skipped under its own name when missing.
 */
export function describeOnEachStore(
  title: string,
  body: (target: StoreTarget) => void,
  also?: { server: string; available: boolean },
): void {
  for (const target of STORE_TARGETS)
    describeWithServer(
      `${title} (${target.kind})`,
      target.available && also ? also.server : 'MongoDB (SQUALL_TEST_MONGO_URL)',
      target.available && (also?.available ?? true),
      () => body(target),
    );
}

/** The embedded store's files under a data directory (the database and its write-ahead log). */
export function embeddedStoreFiles(dataDir: string): string[] {
  return readdirSync(dataDir)
    .filter((f) => f.startsWith('squall.db'))
    .map((f) => path.join(dataDir, f));
}
