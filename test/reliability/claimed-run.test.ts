import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServer } from '../support/servers.js';
import type { ServiceProcess } from '../support/service-process.js';
import { claimedBy } from '../support/stand-in-runs.js';
import { sleep } from '../support/wait.js';
import {
  CLUSTER_AVAILABLE,
  CLUSTER_NEEDS,
  Cluster,
  FIXTURE_PACKS,
  api,
  pool,
  runningEntries,
  waitTerminal,
} from './cluster.js';

const COUNT = 30;
const ONCE = 'reliability.record_run';

/**
 * A runner killed after claiming runs and before starting them leaves them `scheduled`, claimed by
 * a worker that sends no heartbeat. The recovery check and the sweep both give such a run its next
 * attempt, in whichever processes run them: each gave it on its own, and the second one's write
 * could meet the new attempt's `running` on FerretDB (which applies an update as a read and a write
 * of the whole document) and undo it; the runner, its action run, then recorded the execution
 * `failed` (runner-kill, one CI run). Here 30 runs are left in that state at once, by a stand-in
 * worker that claims them while it heartbeats and then falls silent, with an API and a runner up.
 */
describeWithServer(
  'runs a killed runner had claimed and not started',
  CLUSTER_NEEDS,
  CLUSTER_AVAILABLE,
  () => {
    const cluster = new Cluster({
      SQUALL_PACKS_PATHS: FIXTURE_PACKS,
      SQUALL_EXECUTIONS_DEAD_AFTER_MS: '6000',
    });
    let apiProc: ServiceProcess;

    beforeAll(async () => {
      apiProc = await cluster.start('api,rules');
      await cluster.start('runner');
    }, 180_000);
    afterAll(() => cluster.stopAll());

    it('each gets one new attempt, runs once and succeeds', async () => {
      const store = await cluster.store();
      const runs = path.join(cluster.data.dir, 'runs.log');
      // Delayed for 10 minutes: nothing runs them before the stand-in claims them.
      const ids = await pool(Array.from({ length: COUNT }), 8, async () => {
        const r = await api(apiProc.url, 'POST', '/api/v1/executions', {
          action: ONCE,
          parameters: { log: runs, seconds: 1 },
          delay: 600_000,
        });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        return String(r.body.id);
      });
      const victim = `host:999999:gone${String(Date.now() % 1000).padStart(3, '0')}`;
      const beat = () =>
        store.workers.updateOne(
          { id: victim },
          { $set: { pid: 999999, heartbeat_at: new Date().toISOString() } },
          { upsert: true },
        );
      await beat();
      const beating = setInterval(() => void beat(), 500);
      const longAgo = new Date(Date.now() - 60_000).toISOString();
      try {
        // Known alive to every check before it claims (a check reads the live workers as it starts).
        await sleep(3000);
        // What the victim leaves: its job gone (or locked by it), its attempt claimed, `scheduled`.
        await store.mongo!.db.collection('agenda_jobs').deleteMany({ 'data.id': { $in: ids } });
        for (const id of ids) await claimedBy(store, id, victim, longAgo);
        await Promise.all(
          ids.map(async (id) => {
            await store.executions.updateOne(
              { id },
              {
                $set: { status: 'scheduled', delay: 0 },
                $unset: { delayed_until: '' },
                $push: { log: { status: 'scheduled', timestamp: longAgo } },
              },
            );
            await store.liveExecutions.replace({ id, status: 'scheduled', since: longAgo, action: ONCE });
          }),
        );
      } finally {
        // The kill.
        clearInterval(beating);
      }

      const done = await waitTerminal(store, ids, 180_000);
      const lines = existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean) : [];
      const newAttempts = (e: (typeof done)[number]) =>
        (e.log ?? []).filter((l) => /had not started it/.test(String(l.reason ?? ''))).length;
      const count = (values: string[]) =>
        values.reduce<Record<string, number>>((out, v) => ({ ...out, [v]: (out[v] ?? 0) + 1 }), {});
      console.log(
        JSON.stringify({
          test: 'claimed-run',
          executions: ids.length,
          statuses: count(done.map((e) => e.status)),
          new_attempts: count(done.map((e) => String(newAttempts(e)))),
          side_effects: lines.length,
        }),
      );

      expect(done).toHaveLength(COUNT);
      // Each failed one with what it says of its end.
      const notSucceeded = done.filter((e) => e.status !== 'succeeded');
      const described = await Promise.all(
        notSucceeded.map(async (e) => {
          const full = await store.executions.get(e.id);
          return `${e.id} ${e.status}: ${JSON.stringify(full?.result)} ${JSON.stringify(full?.log)}`;
        }),
      );
      expect(described).toEqual([]);
      expect(done.filter((e) => runningEntries(e) !== 1 || newAttempts(e) !== 1).map((e) => e.id)).toEqual(
        [],
      );
      expect([...lines].sort()).toEqual([...ids].sort());
    }, 300_000);
  },
);
