import { afterEach, expect, it, vi } from 'vitest';
import { EmbeddedJobRepository, Scheduler } from '../../../src/scheduler/index.js';
import { JOBS_TABLE, jobModel } from '../../../src/store/index.js';
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '../../../src/log/index.js';
import { newId } from '../../../src/ids.js';
import type { Store } from '../../../src/store/index.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { sleep, waitFor } from '../../support/wait.js';

const JOB = 'squall.test.record';

function makeScheduler(store: Store, processEveryMs: number): Scheduler {
  const scheduler = new Scheduler({ store, logger: silentLogger(), processEveryMs });
  scheduler.define<{ tag: string }>(JOB, async ({ tag }) => {
    await store.testRecords.insert({ id: newId(), tag });
  });
  return scheduler;
}

/** Starts `scheduler`, has it run five JOB jobs and checks each ran once: their ids. */
async function runFive(scheduler: Scheduler, store: Store): Promise<string[]> {
  await scheduler.start();
  const tags = Array.from({ length: 5 }, () => newId());
  const ids = await Promise.all(tags.map((tag) => scheduler.now(JOB, { tag })));
  await waitFor(async () => (await store.testRecords.count({})) >= tags.length, 'the jobs to run', 20_000);
  for (const tag of tags) expect(await store.testRecords.count({ tag })).toBe(1);
  return ids;
}

/** The schedulers and stores a test pushes here are stopped and closed after it. */
function stoppedAfterEach(): Array<{ store: Store; scheduler: Scheduler }> {
  const open: Array<{ store: Store; scheduler: Scheduler }> = [];
  afterEach(async () => {
    for (const { store, scheduler } of open.splice(0)) {
      await scheduler.stop(1000);
      await store.close();
    }
  });
  return open;
}

for (const target of STORE_TARGETS) {
  describeWithServer(
    `Agenda on the ${target.kind} store`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      const open = stoppedAfterEach();

      it('starts a new job at once through the notification channel, not at the next poll', async () => {
        const { store } = await target.open();
        const scheduler = makeScheduler(store, 60_000);
        open.push({ store, scheduler });
        await scheduler.start();
        const tag = newId();
        await scheduler.now(JOB, { tag });
        await waitFor(() => store.testRecords.count({ tag }), 'the job to run', 10_000);
        await sleep(300);
        expect(await store.testRecords.count({ tag })).toBe(1);
      });

      /** A run three lock lifetimes long (a sweep on a slow store, an action run): not cancelled, not started again. */
      async function slowRunKeepsItsLock(lifetimes: { scheduler?: number; job?: number }): Promise<void> {
        const { store } = await target.open();
        const errors: string[] = [];
        const destination = new Writable({
          write(chunk: Buffer, _enc, done) {
            const line = JSON.parse(String(chunk)) as {
              level: number;
              msg: string;
              err?: { message: string };
            };
            if (line.level >= 50) errors.push(`${line.msg}: ${line.err?.message ?? ''}`);
            done();
          },
        });
        const logger = createLogger({ level: 'error', format: 'json', destination });
        const scheduler = new Scheduler({
          store,
          logger,
          processEveryMs: 100,
          lockLifetimeMs: lifetimes.scheduler,
        });
        open.push({ store, scheduler });
        const SLOW = 'squall.test.slow';
        let starts = 0;
        let finished = 0;
        scheduler.define(
          SLOW,
          async () => {
            starts++;
            await sleep(1500);
            finished++;
          },
          lifetimes.job ? { concurrency: 1, lockLifetimeMs: lifetimes.job, skipWhileRunning: true } : {},
        );
        await scheduler.start();
        await scheduler.now(SLOW, {});
        await waitFor(() => finished === 1, 'the slow run to finish', 15_000);
        await sleep(700);
        expect(errors).toEqual([]);
        expect(starts).toBe(1);
      }

      it('keeps the lock of a slow run with a short lock lifetime: it is neither cancelled nor started again', async () => {
        await slowRunKeepsItsLock({ job: 500 });
      });

      it('keeps the lock of a slow run under the scheduler-wide lock lifetime too (every job, not only those with their own)', async () => {
        await slowRunKeepsItsLock({ scheduler: 500 });
      });

      it('runs a job scheduled before a restart exactly once after the restart', async () => {
        const first = await target.open();
        const s1 = makeScheduler(first.store, 200);
        await s1.start();
        const tag = newId();
        await s1.at(new Date(Date.now() + 1500), JOB, { tag });
        await s1.stop(1000);
        await first.store.close();
        expect(tag).toBeTruthy();

        const second = await target.open(first.location);
        const s2 = makeScheduler(second.store, 200);
        open.push({ store: second.store, scheduler: s2 });
        expect(await second.store.testRecords.count({ tag })).toBe(0);
        await s2.start();
        await waitFor(
          () => second.store.testRecords.count({ tag }),
          'the job to run after the restart',
          15_000,
        );
        await sleep(1000);
        expect(await second.store.testRecords.count({ tag })).toBe(1);
      });

      it('runs at its next poll a job another process created without notifying this one', async () => {
        const { store } = await target.open();
        const runner = makeScheduler(store, 300);
        // Another process's scheduler on the same store: its in-process channel reaches nobody here.
        const other = new Scheduler({ store, logger: silentLogger(), processEveryMs: 60_000 });
        open.push({ store, scheduler: runner });
        await runner.start();
        await sleep(700); // a few idle polls first
        const tag = newId();
        await other.now(JOB, { tag });
        await waitFor(() => store.testRecords.count({ tag }), 'the job to run at the next poll', 10_000);
        expect(await store.testRecords.count({ tag })).toBe(1);
      });
    },
  );
}

describeWithServer(
  'Agenda on FerretDB: lock queries',
  'MongoDB (SQUALL_TEST_MONGO_URL)',
  STORE_TARGETS[1].available,
  () => {
    it('does not send one lock query per job name on every poll when nothing is due', async () => {
      const { store } = await STORE_TARGETS[1].open();
      const names = Array.from({ length: 8 }, (_, i) => `squall.test.idle${i}`);
      const scheduler = new Scheduler({ store, logger: silentLogger(), processEveryMs: 100 });
      for (const name of names) scheduler.define(name, async () => undefined);
      const jobs = store.mongo!.db.collection('agenda_jobs');
      // A waiting job of each name (due in an hour): what every lock query would read.
      for (const name of names) await scheduler.at(new Date(Date.now() + 3_600_000), name, {});
      const lockQueries = vi.spyOn(Object.getPrototypeOf(jobs) as typeof jobs, 'findOneAndUpdate');
      try {
        await scheduler.start();
        await sleep(1500);
        const polls = 1500 / 100;
        // Before: every poll asked once per name (8 × 15); now a poll asks only for names with a job due.
        const sent = lockQueries.mock.calls.length;
        if (store.mongo!.ferretdb) expect(sent).toBeLessThan(polls);
        else expect(sent).toBeGreaterThan(0);
      } finally {
        lockQueries.mockRestore();
        await scheduler.stop(1000);
        await store.close();
      }
    });

    it('runs each job of a burst once, locking each by id rather than by a query over the whole queue', async () => {
      const { store } = await STORE_TARGETS[1].open();
      const scheduler = makeScheduler(store, 1000);
      const jobs = store.mongo!.db.collection('agenda_jobs');
      const lockQueries = vi.spyOn(Object.getPrototypeOf(jobs) as typeof jobs, 'findOneAndUpdate');
      try {
        await scheduler.start();
        const tags = Array.from({ length: 40 }, () => newId());
        await Promise.all(tags.map((tag) => scheduler.now(JOB, { tag })));
        await waitFor(
          async () => (await store.testRecords.count({})) >= tags.length,
          'the burst to run',
          60_000,
        );
        await sleep(1500);
        for (const tag of tags) expect(await store.testRecords.count({ tag })).toBe(1);
        const overQueue = lockQueries.mock.calls.filter(([filter]) => !('_id' in (filter as object)));
        // Before: two per job (the job, then "no more"), each reading every queued job on FerretDB.
        if (store.mongo!.ferretdb) expect(overQueue.length).toBeLessThan(tags.length / 4);
        else expect(overQueue.length).toBeGreaterThanOrEqual(tags.length);
      } finally {
        lockQueries.mockRestore();
        await scheduler.stop(1000);
        await store.close();
      }
    });
  },
);

describeWithServer(
  'Agenda on MongoDB: jobs locked as they are created',
  'MongoDB (SQUALL_TEST_MONGO_URL)',
  STORE_TARGETS[1].available,
  () => {
    const open = stoppedAfterEach();

    it('runs a job it creates and has room for without locking it through the store', async () => {
      const { store } = await STORE_TARGETS[1].open();
      const scheduler = makeScheduler(store, 60_000);
      open.push({ store, scheduler });
      const jobs = store.mongo!.db.collection('agenda_jobs');
      const proto = Object.getPrototypeOf(jobs) as typeof jobs;
      const locks = vi.spyOn(proto, 'findOneAndUpdate');
      const reads = vi.spyOn(proto, 'findOne');
      try {
        const ids = await runFive(scheduler, store);
        const byId = (calls: unknown[][]) =>
          calls.filter(([filter]) => ids.includes(String((filter as { _id?: unknown })._id)));
        // Before: a read and a write by `_id` per job (FerretDB), or a findOneAndUpdate (MongoDB).
        expect(byId(locks.mock.calls)).toEqual([]);
        expect(byId(reads.mock.calls)).toEqual([]);
      } finally {
        locks.mockRestore();
        reads.mockRestore();
      }
    });

    it('leaves to another process a job it has no room for', async () => {
      const { store } = await STORE_TARGETS[1].open();
      const BUSY = 'squall.test.busy';
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const ran: string[] = [];
      const busy = (who: string) => async (data: { tag: string }) => {
        ran.push(`${who}:${data.tag}`);
        if (data.tag === 'first') await held;
      };
      // This process runs one BUSY job at a time; the other process, polling, any number.
      const here = new Scheduler({ store, logger: silentLogger(), processEveryMs: 60_000 });
      here.define<{ tag: string }>(BUSY, busy('here'), { concurrency: 1, lockLimit: 1 });
      const other = new Scheduler({ store, logger: silentLogger(), processEveryMs: 200 });
      other.define<{ tag: string }>(BUSY, busy('other'));
      open.push({ store, scheduler: other });
      try {
        await here.start();
        await here.now(BUSY, { tag: 'first' });
        await waitFor(() => ran.includes('here:first'), 'the first job to start here', 10_000);
        await here.now(BUSY, { tag: 'second' });
        await other.start();
        await waitFor(
          () => ran.includes('other:second'),
          'the second job to run in the other process',
          10_000,
        );
      } finally {
        release();
        await here.stop(1000);
      }
      expect(ran.sort()).toEqual(['here:first', 'other:second']);
    });

    it('hands to the process that runs it a job created by the run of a job it created itself', async () => {
      const { store } = await STORE_TARGETS[1].open();
      const FIRST = 'squall.test.first';
      // Like the rules process requesting a run from a trigger's job, for a runner process.
      const here = new Scheduler({ store, logger: silentLogger(), processEveryMs: 60_000 });
      here.define<{ tag: string }>(FIRST, async (data) => void (await here.now(JOB, data)));
      const runner = makeScheduler(store, 300);
      open.push({ store, scheduler: runner });
      try {
        await here.start();
        await runner.start();
        const tag = newId();
        await here.now(FIRST, { tag });
        await waitFor(
          () => store.testRecords.count({ tag }),
          'the second job to run in the other process',
          10_000,
        );
      } finally {
        await here.stop(1000);
      }
    });

    it('has another process take over, once its lock lifetime has passed, a job locked as it was created by a process that died', async () => {
      const { store } = await STORE_TARGETS[1].open();
      const STUCK = 'squall.test.stuck';
      const ran: string[] = [];
      const lifetime = { processEveryMs: 200, lockLifetimeMs: 1500 };
      const here = new Scheduler({ store, logger: silentLogger(), ...lifetime });
      here.define<{ tag: string }>(STUCK, async (data) => void ran.push(`here:${data.tag}`));
      const other = new Scheduler({ store, logger: silentLogger(), ...lifetime });
      other.define<{ tag: string }>(STUCK, async (data) => void ran.push(`other:${data.tag}`));
      open.push({ store, scheduler: other });
      await here.start();
      // Killed between the insert and the run: its job processor hears of no job any more and
      // asks the store for none (Agenda's own polling stopped; its timers stop with the process).
      const processor = (here.agenda as unknown as { jobProcessor: Record<string, unknown> }).jobProcessor;
      (processor.notificationUnsubscribe as () => void)();
      processor.notificationUnsubscribe = undefined;
      const tag = newId();
      try {
        const stopPolling = vi
          .spyOn(processor as { process(): Promise<void> }, 'process')
          .mockResolvedValue();
        await here.now(STUCK, { tag });
        const stored = await store.mongo!.db.collection('agenda_jobs').findOne({ 'data.tag': tag });
        expect(stored?.lockedAt).toBeTruthy();
        await other.start();
        await waitFor(() => ran.includes(`other:${tag}`), 'the other process to take the job over', 10_000);
        stopPolling.mockRestore();
        expect(ran).toEqual([`other:${tag}`]);
      } finally {
        await here.stop(1000);
      }
    });
  },
);

for (const target of STORE_TARGETS) {
  describeWithServer(
    `Agenda on the ${target.kind} store: job-state saves`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      const open = stoppedAfterEach();

      /** Job-state writes, by the id of the job: a MongoDB update, or an embedded repository save. */
      function spyOnSaves(store: Store): { ids(): string[]; restore(): void } {
        if (store.kind === 'mongo') {
          const jobs = store.mongo!.db.collection('agenda_jobs');
          const spy = vi.spyOn(Object.getPrototypeOf(jobs) as typeof jobs, 'updateOne');
          return {
            ids: () => spy.mock.calls.map(([filter]) => String((filter as { _id?: unknown })._id)),
            restore: () => spy.mockRestore(),
          };
        }
        // Spied before the scheduler wraps the repository's method.
        const spy = vi.spyOn(EmbeddedJobRepository.prototype, 'saveJobState');
        return {
          ids: () => spy.mock.calls.map(([job]) => String(job._id)),
          restore: () => spy.mockRestore(),
        };
      }

      /** The stored document of the first job named `name`, as the store keeps it. */
      async function storedJob(store: Store, name: string): Promise<Record<string, unknown> | null> {
        if (store.kind === 'mongo') return store.mongo!.db.collection('agenda_jobs').findOne({ name });
        const row = store.embedded!.db.prepare(`SELECT doc FROM ${JOBS_TABLE} WHERE name = ?`).get(name) as
          { doc: string } | undefined;
        return row ? jobModel.deserialize(row.doc) : null;
      }

      it('saves no state of a one-time job that runs and is removed: insert, lock and removal only', async () => {
        const { store } = await target.open();
        const saves = spyOnSaves(store);
        const scheduler = makeScheduler(store, 60_000);
        open.push({ store, scheduler });
        try {
          const ids = await runFive(scheduler, store);
          await waitFor(
            async () => (await scheduler.agenda.queryJobs({ name: JOB })).total === 0,
            'the jobs to be removed',
            10_000,
          );
          // Before: two per run (as it starts, as it ends), each a round trip or a row rewritten.
          expect(saves.ids().filter((id) => ids.includes(id))).toEqual([]);
        } finally {
          saves.restore();
        }
      });

      it('still saves how a failed one-time run ended, and a repeating job its next run', async () => {
        const { store } = await target.open();
        const scheduler = new Scheduler({ store, logger: silentLogger(), processEveryMs: 200 });
        open.push({ store, scheduler });
        const FAILS = 'squall.test.fails';
        const REPEATS = 'squall.test.repeats';
        let repeated = 0;
        scheduler.define(FAILS, async () => {
          throw new Error('this run fails');
        });
        scheduler.define(REPEATS, async () => void repeated++);
        await scheduler.start();
        const failed = await scheduler.now(FAILS, {});
        await waitFor(
          async () => ((await storedJob(store, FAILS)) as { failReason?: string } | null)?.failReason,
          'the failed run to be saved',
          10_000,
        );
        const job = (await storedJob(store, FAILS))!;
        expect(String(job._id)).toBe(failed);
        expect(job).toMatchObject({
          failReason: 'this run fails',
          failCount: 1,
          lockedAt: null,
          nextRunAt: null,
        });
        await scheduler.every(300, REPEATS, {});
        await waitFor(() => repeated >= 2, 'the repeating job to run twice', 10_000);
        const repeating = (await storedJob(store, REPEATS)) as { nextRunAt?: Date | null };
        expect(repeating.nextRunAt).toBeInstanceOf(Date);
      });
    },
  );
}
