import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServer } from '../support/servers.js';
import type { ServiceProcess } from '../support/service-process.js';
import {
  CLUSTER_AVAILABLE,
  CLUSTER_NEEDS,
  Cluster,
  api,
  pool,
  runningEntries,
  waitTerminal,
} from './cluster.js';

/**
 * How many core.noop executions the three-process test pushes through: the 2,000 (about
 * 5.5 min on 2 cores with FerretDB/SQLite; see README.md). SQUALL_RELIABILITY_N changes it.
 */
const N = Number(process.env.SQUALL_RELIABILITY_N ?? 2000);
/**
 * Requests in flight while submitting. With 8 the API accepted ~4.6/s while the runners completed
 * ~2/s; the backlog of queued jobs made every Agenda poll read them all (FerretDB sorts and
 * filters in memory) and the whole run slowed to ~1/s. 4 keeps the queue short.
 */
const WIDTH = Number(process.env.SQUALL_RELIABILITY_WIDTH ?? 4);

describeWithServer(
  'three processes (api + 2 runners) share the work',
  CLUSTER_NEEDS,
  CLUSTER_AVAILABLE,
  () => {
    // Production timings (heartbeat 2 s, dead after 15 s, checks every 5 s, job polling every 5 s):
    // this test measures throughput, and the short failure-detection settings of the fault tests
    // only add store scans here.
    const cluster = new Cluster({
      SQUALL_EXECUTIONS_HEARTBEAT_MS: '2000',
      SQUALL_EXECUTIONS_DEAD_AFTER_MS: '15000',
      SQUALL_EXECUTIONS_CHECK_EVERY_MS: '5000',
      SQUALL_SCHEDULER_PROCESS_EVERY_MS: '5000',
    });
    let apiProc: ServiceProcess;
    let runners: ServiceProcess[];

    beforeAll(async () => {
      // As in README's "Three processes": the API process also runs rules, which consume the
      // action trigger every completed execution emits.
      apiProc = await cluster.start('api,rules');
      runners = [await cluster.start('runner'), await cluster.start('runner')];
    }, 180_000);
    afterAll(() => cluster.stopAll());

    it(
      `completes ${N} core.noop executions, each exactly once, on both runners`,
      async () => {
        const started = Date.now();
        const ids = await pool(Array.from({ length: N }), WIDTH, async () => {
          const r = await api(apiProc.url, 'POST', '/api/v1/executions', { action: 'core.noop' });
          expect(r.status, JSON.stringify(r.body)).toBe(201);
          return String(r.body.id);
        });
        const store = await cluster.store();
        const submitted = (Date.now() - started) / 1000;
        const done = await waitTerminal(store, ids, 30 * 60_000);
        const seconds = (Date.now() - started) / 1000;
        console.log(
          JSON.stringify({
            test: 'three-process',
            executions: N,
            in_flight: WIDTH,
            submitted_s: submitted,
            seconds,
            per_second: N / seconds,
          }),
        );

        expect(new Set(ids).size).toBe(N);
        expect(done).toHaveLength(N);
        expect(done.filter((e) => e.status !== 'succeeded').map((e) => `${e.id}:${e.status}`)).toEqual([]);
        // Exactly once: one `running` transition and one run claim per execution.
        expect(done.filter((e) => runningEntries(e) !== 1).map((e) => e.id)).toEqual([]);
        const claims = await store.claims.find({ id: { $regex: '^execution:[^:]+:attempt:' } });
        const perExecution = new Map<string, number>();
        for (const c of claims) {
          const id = c.id.split(':')[1];
          perExecution.set(id, (perExecution.get(id) ?? 0) + 1);
        }
        expect(ids.filter((id) => perExecution.get(id) !== 1)).toEqual([]);
        // Both runners took part (Agenda's lock limit keeps one from taking the whole queue).
        const workers = new Map<string, number>();
        for (const c of claims) workers.set(c.owner, (workers.get(c.owner) ?? 0) + 1);
        expect(workers.size).toBe(2);
        expect(runners.every((r) => r.child.exitCode === null)).toBe(true);
      },
      40 * 60_000,
    );
  },
);
