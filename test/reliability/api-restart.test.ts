import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../src/ids.js';
import { describeWithServer } from '../support/servers.js';
import type { ServiceProcess } from '../support/service-process.js';
import { CLUSTER_AVAILABLE, CLUSTER_NEEDS, Cluster, FIXTURE_PACKS, pool } from './cluster.js';

/** Webhooks in the burst, and after how many the API process is killed. */
const BURST = Number(process.env.SQUALL_RELIABILITY_WEBHOOKS ?? 1000);
const KILL_AT = Math.floor(BURST * 0.3);

describeWithServer(
  'the API process killed (SIGKILL) and restarted during a webhook burst',
  CLUSTER_NEEDS,
  CLUSTER_AVAILABLE,
  () => {
    const cluster = new Cluster({ SQUALL_PACKS_PATHS: FIXTURE_PACKS });
    let first: ServiceProcess;

    beforeAll(async () => {
      // The reliability pack gives the url "burst" a rule whose criteria never match: each
      // webhook makes one trigger instance and nothing else.
      first = await cluster.start('api,rules');
    }, 180_000);
    afterAll(() => cluster.stopAll());

    it('every webhook answered 202 made exactly one trigger instance', async () => {
      const run = newId();
      let url = first.url;
      let restarted: Promise<unknown> = Promise.resolve();
      let killed: NodeJS.Signals | null = null;
      const outcome: Array<number | 'error'> = new Array(BURST);
      const started = Date.now();
      await pool(
        Array.from({ length: BURST }, (_, i) => i),
        8,
        async (i) => {
          if (i === KILL_AT) {
            // Killed with requests in flight; the others see connection errors until it is back.
            restarted = (async () => {
              killed = (await first.stop('SIGKILL')).signal;
              url = (await cluster.start('api,rules')).url;
            })();
          }
          try {
            const res = await fetch(`${url}/api/v1/webhooks/burst`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ marker: `${run}:${i}` }),
            });
            await res.text();
            outcome[i] = res.status;
          } catch {
            // Not counted: the request may or may not have been stored. Wait for the restart.
            outcome[i] = 'error';
            await restarted;
          }
        },
      );
      await restarted;
      const seconds = (Date.now() - started) / 1000;

      const store = await cluster.store();
      const instances = await store.triggerInstances.find({ trigger_type: 'core.st2.webhook' });
      const perMarker = new Map<string, number>();
      for (const ti of instances) {
        const marker = String((ti.payload as { body?: { marker?: string } })?.body?.marker ?? '');
        if (marker.startsWith(`${run}:`)) perMarker.set(marker, (perMarker.get(marker) ?? 0) + 1);
      }
      const accepted = outcome.flatMap((o, i) => (o === 202 ? [`${run}:${i}`] : []));
      const errors = outcome.filter((o) => o === 'error').length;
      console.log(
        JSON.stringify({
          test: 'api-restart',
          webhooks: BURST,
          killed_after: KILL_AT,
          accepted: accepted.length,
          connection_errors: errors,
          other: outcome.filter((o) => o !== 202 && o !== 'error'),
          instances: [...perMarker.values()].reduce((a, b) => a + b, 0),
          seconds,
        }),
      );

      expect(killed).toBe('SIGKILL');
      // Only 202s and connection errors; the restarted API took part of the burst.
      expect(outcome.filter((o) => o !== 202 && o !== 'error')).toEqual([]);
      expect(accepted.filter((m) => Number(m.split(':')[1]) > KILL_AT).length).toBeGreaterThan(0);
      // Exactly one instance per 202; never two for one webhook, even among those that errored.
      expect(accepted.filter((m) => perMarker.get(m) !== 1)).toEqual([]);
      expect([...perMarker].filter(([, n]) => n > 1)).toEqual([]);
    }, 600_000);
  },
);
