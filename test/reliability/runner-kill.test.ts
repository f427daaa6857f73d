import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../src/store/index.js';
import { describeWithServer } from '../support/servers.js';
import type { ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait.js';
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

/** Executions of each kind (not idempotent / idempotent) in the load. */
const PER_KIND = 30;
const ONCE = 'reliability.record_run';
const AGAIN = 'reliability.record_run_idempotent';

describeWithServer(
  'a runner killed with SIGKILL in the middle of the load',
  CLUSTER_NEEDS,
  CLUSTER_AVAILABLE,
  () => {
    // Short failure detection: heartbeat 0.5 s, dead after 6 s, checks every second. (3 s, the
    // cluster default, declared live runners dead on a loaded 2-core machine, whose heartbeat
    // writes then waited seconds for FerretDB.)
    const cluster = new Cluster({
      SQUALL_PACKS_PATHS: FIXTURE_PACKS,
      SQUALL_EXECUTIONS_DEAD_AFTER_MS: '6000',
    });
    let apiProc: ServiceProcess;
    let victim: ServiceProcess;
    let survivor: ServiceProcess;

    beforeAll(async () => {
      apiProc = await cluster.start('api,rules');
      victim = await cluster.start('runner');
      survivor = await cluster.start('runner');
    }, 180_000);
    afterAll(() => cluster.stopAll());

    it('loses nothing, never runs a non-idempotent action twice, and re-runs the idempotent ones it cut short', async () => {
      const store = await cluster.store();
      // Each run appends its execution id to this file before working for 4 s: the side effect
      // that shows how many times an action really ran.
      const runs = path.join(cluster.data.dir, 'runs.log');
      const refs = Array.from({ length: 2 * PER_KIND }, (_, i) => (i % 2 ? AGAIN : ONCE));
      const ids = await pool(refs, 8, async (action) => {
        const r = await api(apiProc.url, 'POST', '/api/v1/executions', {
          action,
          parameters: { log: runs, seconds: 4 },
        });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
        return String(r.body.id);
      });
      const refOf = new Map(ids.map((id, i) => [id, refs[i]]));

      const worker = await waitFor(
        () => store.workers.findOne({ pid: victim.child.pid }),
        'the victim runner to heartbeat',
        30_000,
        200,
      );
      // Kill it while it is running actions of both kinds.
      const inFlight = await waitFor(
        async () => {
          const running = await store.executions.find(
            { status: 'running', worker: worker.id },
            { projection: { id: 1, action: 1 } },
          );
          const kinds = new Set(running.map((e) => e.action.ref));
          return kinds.has(ONCE) && kinds.has(AGAIN) ? running.map((e) => e.id) : null;
        },
        'the victim to be running both kinds of action',
        120_000,
        100,
      );
      const killed = await victim.stop('SIGKILL');
      expect(killed.signal).toBe('SIGKILL');

      const done = await waitTerminal(store, ids, 240_000);
      const lines = existsSync(runs) ? readFileSync(runs, 'utf8').split('\n').filter(Boolean) : [];
      const ranTimes = new Map<string, number>();
      for (const id of lines) ranTimes.set(id, (ranTimes.get(id) ?? 0) + 1);
      const byKind = (ref: string) => done.filter((e) => refOf.get(e.id) === ref);
      const once = byKind(ONCE);
      const again = byKind(AGAIN);
      // Re-run by recovery because the victim died while running it.
      const rerun = (e: ExecutionRecord) =>
        (e.log ?? []).some((l) => {
          const reason = String(l.reason ?? '');
          return reason.startsWith(`worker ${worker.id} `) && reason.includes('re-running idempotent action');
        });
      const summary = {
        test: 'runner-kill',
        executions: ids.length,
        in_flight_on_victim: inFlight.length,
        not_idempotent: countBy(once.map((e) => e.status)),
        idempotent: countBy(again.map((e) => e.status)),
        idempotent_rerun: again.filter(rerun).length,
        side_effects: lines.length,
      };
      console.log(JSON.stringify(summary));

      // None lost: every execution reached a terminal state.
      expect(done).toHaveLength(ids.length);
      // Not idempotent: ran at most once. Those cut short by the kill were running on the victim
      // and are abandoned; every other one succeeded, having run exactly once. (The victim may
      // have started more after `inFlight` was read, so its worker id is what identifies them.)
      expect(once.filter((e) => (ranTimes.get(e.id) ?? 0) > 1).map((e) => e.id)).toEqual([]);
      const abandoned = once.filter((e) => e.status === 'abandoned');
      expect(abandoned.length).toBeGreaterThan(0);
      expect(abandoned.filter((e) => e.worker !== worker.id).map((e) => e.id)).toEqual([]);
      // With what each says of its end, so that a failure names its cause (read again in full:
      // waitTerminal leaves the result out).
      const unexpected = await Promise.all(
        once
          .filter((e) => !['succeeded', 'abandoned'].includes(e.status))
          .map(async (e) => {
            const full = await store.executions.get(e.id);
            return `${e.id} ${e.status} (victim ${worker.id}): ${JSON.stringify(full?.result)} ${JSON.stringify(full?.log)}`;
          }),
      );
      expect(unexpected).toEqual([]);
      expect(
        once.filter((e) => e.status === 'succeeded' && ranTimes.get(e.id) !== 1).map((e) => e.id),
      ).toEqual([]);
      // Idempotent: all succeeded; the ones the kill cut short ran again, the rest once.
      expect(again.filter((e) => e.status !== 'succeeded').map((e) => `${e.id}:${e.status}`)).toEqual([]);
      const rerunIds = again.filter(rerun).map((e) => e.id);
      expect(rerunIds.length).toBeGreaterThan(0);
      // A run cut short may have died before its side effect: once per attempt at most, and the
      // attempt that succeeded always made it.
      expect(
        again
          .filter((e) => {
            const ran = ranTimes.get(e.id) ?? 0;
            return ran < 1 || ran > runningEntries(e);
          })
          .map((e) => `${e.id}: ${ranTimes.get(e.id) ?? 0} side effects, ${runningEntries(e)} runs`),
      ).toEqual([]);
      expect(
        again.filter((e) => runningEntries(e) !== (rerunIds.includes(e.id) ? 2 : 1)).map((e) => e.id),
      ).toEqual([]);
      expect(survivor.child.exitCode).toBeNull();
    }, 420_000);
  },
);

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
