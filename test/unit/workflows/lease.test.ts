// The workflow lease kept from step to step (src/workflows/engine/lease.ts): the next step of the
// same process claims nothing and gets what the last one kept; a failed step, a step that does not
// ask, the process stopping and KEEP_MS without a step give it back; a step of another process that
// waits for it gets it within HOLD_MS even while this process keeps stepping.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/log/index.js';
import { openStore, type Store } from '../../../src/store/index.js';
import { HOLD_MS, KEEP_MS, WorkflowLeases, YIELD_MS } from '../../../src/workflows/engine/lease.js';
import { freshMongoUrl, MONGO_URL, tempDir } from '../../support/servers.js';

const stores: Array<[string, () => { mongoUrl?: string }]> = [['embedded', () => ({})]];
if (MONGO_URL) stores.push(['mongo', () => ({ mongoUrl: freshMongoUrl() })]);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe.each(stores)('workflow leases kept between steps (%s)', (_name, options) => {
  let store: Store;
  let cleanup: () => void;
  const leases = (worker: string, waitMs = 10_000) =>
    new WorkflowLeases<string>({
      store,
      workerId: () => worker,
      // No heartbeats here: a claim is not stale within the test.
      deadAfterMs: 600_000,
      waitMs,
      logger: silentLogger(),
    });
  const held = async (wf: string) => (await store.claims.get(`wf:${wf}:lease`))?.owner ?? null;

  beforeEach(async () => {
    const t = tempDir('squall-lease-');
    cleanup = t.cleanup;
    store = await openStore({ dataDir: t.dir, ...options() });
  });
  afterEach(async () => {
    await store.close();
    cleanup();
  });

  it('gives the next step of this process what the last kept, claiming nothing, and lets go KEEP_MS after', async () => {
    const a = leases('a');
    const claim = vi.spyOn(store, 'claim');
    const carried: Array<string | undefined> = [];
    for (const record of ['r1', 'r2', 'r3'])
      await a.with('w1', async (lease) => {
        carried.push(lease.carried);
        lease.keep = record;
      });
    expect(carried).toEqual([undefined, 'r1', 'r2']);
    expect(claim.mock.calls.filter(([key]) => key === 'wf:w1:lease')).toHaveLength(1);
    expect(await held('w1')).toMatch(/^a#/);
    await sleep(KEEP_MS + 150);
    expect(await held('w1')).toBeNull();
    // Given back, it is claimed anew, and nothing is carried over.
    await a.with('w1', async (lease) => {
      expect(lease.carried).toBeUndefined();
    });
    expect(claim.mock.calls.filter(([key]) => key === 'wf:w1:lease')).toHaveLength(2);
    expect(await held('w1')).toBeNull();
  });

  it('gives the claim back at once after a step that failed, and the next step carries nothing', async () => {
    const a = leases('a');
    await a.with('w1', async (lease) => {
      lease.keep = 'r1';
    });
    await expect(
      a.with('w1', async (lease) => {
        expect(lease.carried).toBe('r1');
        lease.keep = 'half-changed';
        throw new Error('step failed');
      }),
    ).rejects.toThrow('step failed');
    expect(await held('w1')).toBeNull();
    await a.with('w1', async (lease) => {
      expect(lease.carried).toBeUndefined();
    });
  });

  it('gives every kept claim back when the process stops', async () => {
    const a = leases('a');
    for (const wf of ['w1', 'w2'])
      await a.with(wf, async (lease) => {
        lease.keep = 'r';
      });
    expect(await held('w2')).toMatch(/^a#/);
    await a.letGoAll();
    expect([await held('w1'), await held('w2')]).toEqual([null, null]);
  });

  it('lets a step of another process that waits in within HOLD_MS while this one keeps stepping', async () => {
    const a = leases('a');
    const b = leases('b');
    let stepping = true;
    let steps = 0;
    const chain = (async () => {
      // Steps back to back: the claim is free for no time between them.
      while (stepping)
        await a.with('w1', async (lease) => {
          steps++;
          lease.keep = 'r';
          await sleep(1);
        });
    })();
    await sleep(50);
    const asked = Date.now();
    let got = 0;
    await b.with('w1', async () => {
      got = Date.now();
    });
    const stepsBefore = steps;
    await sleep(100);
    stepping = false;
    await chain;
    await a.letGoAll();
    expect(got - asked).toBeLessThan(HOLD_MS + YIELD_MS + 1000);
    // This process went on stepping after it.
    expect(steps).toBeGreaterThan(stepsBefore);
    // The waiting step's mark is gone with it.
    expect(await store.claims.get('wf:w1:lease:waiting')).toBeNull();
  }, 20_000);
});
