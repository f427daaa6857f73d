import { afterAll, beforeAll, expect, it } from 'vitest';
import { Leases, fairShare } from '../../../src/scale/index.js';
import type { Store } from '../../../src/store/index.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';

const TTL = 5_000;

/** Writes a heartbeat for `worker`, `agoMs` in the past, as the executions recovery does. */
async function beat(store: Store, worker: string, agoMs = 0): Promise<void> {
  await store.workers.updateOne(
    { id: worker },
    { $set: { heartbeat_at: new Date(Date.now() - agoMs).toISOString() } },
    { upsert: true },
  );
}

for (const target of STORE_TARGETS) {
  describeWithServer(`leases (${target.kind})`, `${target.kind} store`, target.available, () => {
    let store: Store;
    const leasesOf = (worker: string) => new Leases({ store, workerId: () => worker, ttlMs: TTL });

    beforeAll(async () => {
      store = (await target.open()).store;
    });
    afterAll(async () => {
      await store?.close();
    });

    it('exactly one of several processes racing for a lease gets it', async () => {
      const workers = ['race-a', 'race-b', 'race-c', 'race-d'];
      for (const w of workers) await beat(store, w);
      const won = await Promise.all(workers.map((w) => leasesOf(w).acquire('sensor:pack.racy')));
      expect(won.filter(Boolean)).toHaveLength(1);
      const holder = workers[won.indexOf(true)];
      expect((await leasesOf('race-a').holders(['sensor:pack.racy'])).get('sensor:pack.racy')).toBe(holder);
      // The holder asking again keeps it; the others still cannot take it while it heartbeats.
      expect(await leasesOf(holder).acquire('sensor:pack.racy')).toBe(true);
      for (const w of workers.filter((x) => x !== holder))
        expect(await leasesOf(w).acquire('sensor:pack.racy')).toBe(false);
    });

    it('a lease whose holder stopped heartbeating is taken over, once', async () => {
      await beat(store, 'dead-1', TTL + 1_000);
      await beat(store, 'live-1');
      await beat(store, 'live-2');
      expect(await leasesOf('dead-1').acquire('chat:slack:abc')).toBe(true);
      const takers = await Promise.all(
        ['live-1', 'live-2'].map((w) => leasesOf(w).acquire('chat:slack:abc')),
      );
      expect(takers.filter(Boolean)).toHaveLength(1);
      const holder = (await leasesOf('live-1').holders(['chat:slack:abc'])).get('chat:slack:abc');
      expect(['live-1', 'live-2']).toContain(holder);
      // The dead process cannot release what it lost.
      expect(await leasesOf('dead-1').release('chat:slack:abc')).toBe(false);
      expect(await leasesOf('dead-1').heldHere(['chat:slack:abc'])).toEqual(new Set());
    });

    it('a holder that is slow but within the ttl keeps its lease', async () => {
      await beat(store, 'slow-1', TTL - 2_000);
      await beat(store, 'eager-1');
      expect(await leasesOf('slow-1').acquire('sensor:pack.slow')).toBe(true);
      expect(await leasesOf('eager-1').acquire('sensor:pack.slow')).toBe(false);
    });

    it('a released lease is free at once for another process', async () => {
      await beat(store, 'leaving-1');
      await beat(store, 'staying-1');
      expect(await leasesOf('leaving-1').acquire('sensor:pack.handover')).toBe(true);
      expect(await leasesOf('staying-1').acquire('sensor:pack.handover')).toBe(false);
      expect(await leasesOf('staying-1').release('sensor:pack.handover')).toBe(false);
      expect(await leasesOf('leaving-1').release('sensor:pack.handover')).toBe(true);
      expect(await leasesOf('staying-1').acquire('sensor:pack.handover')).toBe(true);
      expect(await leasesOf('staying-1').heldHere(['sensor:pack.handover', 'sensor:pack.other'])).toEqual(
        new Set(['sensor:pack.handover']),
      );
    });

    it('group members are the processes that still heartbeat; dead members are dropped', async () => {
      await beat(store, 'm-live-1');
      await beat(store, 'm-live-2');
      await beat(store, 'm-dead', TTL + 1_000);
      for (const w of ['m-live-2', 'm-dead', 'm-live-1']) await leasesOf(w).join('grp');
      await leasesOf('m-live-1').join('grp'); // joining twice is harmless
      await leasesOf('x-other').join('other-grp');
      expect(await leasesOf('m-live-1').members('grp')).toEqual(['m-live-1', 'm-live-2']);
      await leasesOf('m-live-2').leave('grp');
      expect(await leasesOf('m-live-1').members('grp')).toEqual(['m-live-1']);
    });

    it('a ttl shorter than two heartbeats is refused', () => {
      expect(() => new Leases({ store, workerId: () => 'w', ttlMs: 1_000, heartbeatMs: 2_000 })).toThrow(
        /LEASE_TTL_TOO_SHORT|at least twice/,
      );
    });
  });
}

it('a fair share gives every item a taker', () => {
  expect(fairShare(5, 2)).toBe(3);
  expect(fairShare(4, 2)).toBe(2);
  expect(fairShare(3, 0)).toBe(3);
  expect(fairShare(0, 3)).toBe(0);
});
