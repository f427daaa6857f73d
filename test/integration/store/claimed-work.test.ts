import { afterAll, beforeAll, expect, it } from 'vitest';
import { doOnce, resumeClaimedWork, type ClaimedWork } from '../../../src/store/claims.js';
import type { Store } from '../../../src/store/index.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';

const TTL = 60_000;
const LONG_AGO = new Date(Date.now() - 3_600_000).toISOString();

/** Work that records each subject it is run for. */
function recorder(prefix: string): ClaimedWork & { ran: string[] } {
  const ran: string[] = [];
  return { prefix, ran, run: async (subject) => void ran.push(subject) };
}

for (const target of STORE_TARGETS) {
  describeWithServer(`claimed work (store/claims) (${target.kind})`, target.kind, target.available, () => {
    let store: Store;
    beforeAll(async () => {
      store = (await target.open()).store;
      await store.workers.insert({ id: 'live-worker', heartbeat_at: new Date().toISOString() } as never);
    });
    afterAll(async () => store?.close());

    it('doOnce runs the work for the first caller only and marks its claim done', async () => {
      const work = recorder('once:');
      expect(await doOnce(store, work, 'a', 'live-worker')).toBe(true);
      expect(await doOnce(store, work, 'a', 'other-worker')).toBe(false);
      expect(work.ran).toEqual(['a']);
      expect((await store.claims.get('once:a'))?.done_at).toEqual(expect.any(String));
    });

    it('doOnce does work its caller claimed ahead (with the write that made it owed), once', async () => {
      const work = recorder('ahead:');
      expect(await store.claim('ahead:a', 'live-worker')).toBe(true);
      expect(await doOnce(store, work, 'a', 'other-worker')).toBe(false);
      expect(await doOnce(store, work, 'a', 'live-worker')).toBe(true);
      expect(await doOnce(store, work, 'a', 'live-worker')).toBe(false);
      expect(work.ran).toEqual(['a']);
    });

    it('a failed run is done too: only a dead claimer leaves its claim open', async () => {
      const work: ClaimedWork = {
        prefix: 'failing:',
        run: async () => {
          throw new Error('the chat is down');
        },
      };
      await expect(doOnce(store, work, 'a', 'live-worker')).rejects.toThrow('the chat is down');
      expect((await store.claims.get('failing:a'))?.done_at).toEqual(expect.any(String));
      expect((await resumeClaimedWork(store, [work], 'taker', TTL)).resumed).toEqual([]);
    });

    it('takes over the open claims of gone owners, once, and leaves live owners and done work alone', async () => {
      const work = recorder('resume:');
      await store.claims.insert({ id: 'resume:dead', owner: 'dead-worker', claimed_at: LONG_AGO });
      await store.claims.insert({ id: 'resume:live', owner: 'live-worker', claimed_at: LONG_AGO });
      await store.claims.insert({
        id: 'resume:done',
        owner: 'dead-worker',
        claimed_at: LONG_AGO,
        done_at: LONG_AGO,
      } as never);
      await store.claims.insert({
        id: 'resume:young',
        owner: 'dead-worker',
        claimed_at: new Date().toISOString(),
      });
      // Two processes sweeping at the same moment.
      const [a, b] = await Promise.all([
        resumeClaimedWork(store, [work], 'taker-a', TTL),
        resumeClaimedWork(store, [work], 'taker-b', TTL),
      ]);
      expect(work.ran).toEqual(['dead']);
      expect([...a.resumed, ...b.resumed]).toEqual(['resume:dead']);
      const taken = await store.claims.get('resume:dead');
      expect(taken?.owner).toBe(a.resumed.length ? 'taker-a' : 'taker-b');
      expect(taken?.done_at).toEqual(expect.any(String));
      expect((await resumeClaimedWork(store, [work], 'taker-c', TTL)).resumed).toEqual([]);
      expect(work.ran).toEqual(['dead']);
    });
  });
}
