import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { openStore } from '../../../src/store/index.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl } from '../../support/servers.js';

const root = path.resolve(import.meta.dirname, '../../..');
const LEASES = 60;

function taker(mongoUrl: string, worker: string, startAt: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'test/support/lease-taker.ts', mongoUrl, worker, String(startAt), String(LEASES)],
      { cwd: root, timeout: 60_000 },
      (err, stdout) =>
        err
          ? reject(err)
          : resolve(
              stdout
                .split('\n')
                .filter((l) => l.startsWith('TOOK '))
                .map((l) => l.slice(5)),
            ),
    );
  });
}

const mongo = STORE_TARGETS.find((t) => t.kind === 'mongo')!;
describeWithServer(
  'leases across OS processes (mongo)',
  'MongoDB (SQUALL_TEST_MONGO_URL)',
  mongo.available,
  () => {
    it("two processes taking over a dead process's leases at once: each lease goes to exactly one", async () => {
      const url = freshMongoUrl();
      const store = await openStore({ dataDir: os.tmpdir(), mongoUrl: url });
      try {
        const silentSince = new Date(Date.now() - 60_000).toISOString();
        await store.workers.insert({ id: 'dead-worker', heartbeat_at: silentSince } as never);
        for (let i = 0; i < LEASES; i++) {
          await store.claims.insert({
            id: `lease:takeover-${i}`,
            owner: 'dead-worker',
            claimed_at: silentSince,
          });
        }
        // Both start at the same moment (after their start-up), so their takeovers overlap.
        const startAt = Date.now() + 4_000;
        const [a, b] = await Promise.all([taker(url, 'live-a', startAt), taker(url, 'live-b', startAt)]);
        const both = a.filter((name) => b.includes(name));
        expect(both, 'leases both processes believe they hold').toEqual([]);
        expect(a.length + b.length).toBe(LEASES);
        const claims = await store.claims.find({ id: { $regex: '^lease:takeover-' } });
        expect(claims).toHaveLength(LEASES);
        for (const c of claims) {
          const name = c.id.slice('lease:'.length);
          expect(c.owner, name).toBe(a.includes(name) ? 'live-a' : 'live-b');
        }
        // No breaking tickets are left behind.
        expect(await store.claims.count({ id: { $regex: '#breaking:' } })).toBe(0);
      } finally {
        await store.close();
      }
    }, 90_000);
  },
);
