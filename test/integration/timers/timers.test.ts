import { execFile } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registerSystemContent } from '../../../src/content/register.js';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { eventsSubsystem } from '../../../src/rules/index.js';
import { notifierSubsystem } from '../../../src/notifier/index.js';
import { idFor, newId } from '../../../src/ids.js';
import type { Services, Subsystem } from '../../../src/service/index.js';
import { triggerRefFor } from '../../../src/triggers/index.js';
import { INTERVAL_TIMER, getTimerEngine, timersSubsystem } from '../../../src/triggers/timers/index.js';
import {
  STORE_TARGETS,
  describeWithServer,
  freshMongoUrl,
  MONGO_URL,
  tempDir,
} from '../../support/servers.js';
import { ROOT } from '../../support/service-process.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { readsDuring } from '../../support/reads.js';
import { sleep, waitFor } from '../../support/wait.js';

type Json = Record<string, any>;
type TestService = Awaited<ReturnType<typeof startTestService>>;

const EVERY_SECOND = { unit: 'seconds', delta: 1 };

async function addRule(services: Services, name: string, parameters: Json, enabled = true): Promise<string> {
  const id = newId();
  const rule = {
    id,
    ref: `timertest.${name}`,
    uid: `rule:timertest:${name}`,
    pack: 'timertest',
    name,
    enabled,
    type: { ref: 'standard', parameters: {} },
    trigger: { type: INTERVAL_TIMER, parameters },
    criteria: {},
    action: { ref: 'core.noop', parameters: {} },
  };
  await services.store.rules.insert(rule as never);
  services.bus.publish('st2.rule__create', rule);
  return id;
}

async function setEnabled(services: Services, id: string, enabled: boolean): Promise<void> {
  const rule = await services.store.rules.updateOne({ id }, { $set: { enabled } });
  services.bus.publish('st2.rule__update', rule);
}

/** executed_at of the instances of one timer, sorted. */
async function ticksOf(services: Services, parameters: Json): Promise<string[]> {
  const ref = triggerRefFor(INTERVAL_TIMER, parameters);
  const instances = await services.store.triggerInstances.find({ trigger: ref });
  return instances.map((i) => String((i.payload as Json).executed_at)).sort();
}

function expectOncePerTick(ticks: string[], periodMs: number): void {
  expect(new Set(ticks).size, `duplicate ticks in ${ticks.join(', ')}`).toBe(ticks.length);
  const ms = ticks.map((t) => Date.parse(t));
  for (let i = 1; i < ms.length; i++) {
    expect(ms[i] - ms[i - 1], `ticks ${ticks[i - 1]} → ${ticks[i]} are not one period apart`).toBe(periodMs);
  }
}

/**
 * Content registration currently deletes the system trigger types (pack `core`) when it syncs the
 * bundled core pack, which has none of its own; put them back until that is fixed in src/content.
 */
const systemTriggerTypes: Subsystem = {
  name: 'test-system-trigger-types',
  init: (services) => registerSystemContent(services.store),
};

/** The real `squall` CLI against a test service (asynchronously: the API runs in this process). */
function squall(url: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = tempDir();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/run.ts', ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOME: home.dir, SQUALL_API_URL: url, COLUMNS: '200' },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        home.cleanup();
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const start = (mongoUrl?: string, withRules = false) => {
  const executions = executionsSubsystem();
  const rules = withRules
    ? [
        executions,
        eventsSubsystem(() => executions.service()),
        notifierSubsystem(
          () => executions.service(),
          () => undefined,
        ),
      ]
    : [];
  return startTestService({
    subsystems: [testSecretsSubsystem(), contentSubsystem(), systemTriggerTypes, ...rules, timersSubsystem()],
    mongoUrl,
    config: { 'auth.enable': false, 'scheduler.process_every_ms': 200 },
  });
};

for (const target of STORE_TARGETS) {
  describeWithServer(`timers (${target.kind})`, 'MongoDB (SQUALL_TEST_MONGO_URL)', target.available, () => {
    let svc: TestService;
    const api = async (p: string) => {
      const res = await fetch(`${svc.url}${p}`);
      return { status: res.status, body: (await res.json()) as any };
    };

    beforeAll(async () => {
      svc = await start(target.kind === 'mongo' ? freshMongoUrl() : undefined, true);
    });
    afterAll(async () => svc?.cleanup());

    it('an IntervalTimer rule of 1 second fires once per tick; disabling the rule stops it', async () => {
      const ruleId = await addRule(svc.services, 'every_second', EVERY_SECOND);
      const ref = triggerRefFor(INTERVAL_TIMER, EVERY_SECOND);

      const listed = await waitFor(async () => {
        const { body } = await api('/api/v1/timers');
        return body.find((t: Json) => t.ref === ref && t.next_fire_time);
      }, 'the timer to be listed with its next fire time');
      expect(listed).toMatchObject({
        ref,
        type: INTERVAL_TIMER,
        parameters: EVERY_SECOND,
        rules: ['timertest.every_second'],
      });
      expect(Date.parse(listed.next_fire_time)).toBeGreaterThan(0);
      const one = await api(`/api/v1/timers/${encodeURIComponent(ref)}`);
      expect(one.status).toBe(200);
      expect(one.body.ref).toBe(ref);

      const ticks = await waitFor(
        async () => {
          const t = await ticksOf(svc.services, EVERY_SECOND);
          return t.length >= 4 ? t : null;
        },
        '4 ticks of the 1 s timer',
        20_000,
      );
      expectOncePerTick(ticks, 1000);
      const instance = await svc.services.store.triggerInstances.findOne({ trigger: ref });
      expect(instance).toMatchObject({ trigger_type: INTERVAL_TIMER, payload: { schedule: EVERY_SECOND } });
      // The instance carries the timer's ref, so the rules engine fires exactly the rule bound to it.
      const enforcement = await waitFor(
        () => svc.services.store.ruleEnforcements.findOne({ trigger_instance_id: instance!.id }),
        'the rule enforcement of a tick',
      );
      expect(enforcement.rule.ref).toBe('timertest.every_second');

      await setEnabled(svc.services, ruleId, false);
      // Once this process has dropped the timer (a tick it was firing included), it ticks no more.
      await getTimerEngine(svc.services).reconcile();
      await waitFor(async () => (await api('/api/v1/timers')).body.length === 0, 'the timer to go away');
      expect((await api(`/api/v1/timers/${encodeURIComponent(ref)}`)).status).toBe(404);
      const before = (await ticksOf(svc.services, EVERY_SECOND)).length;
      await sleep(2500);
      expect((await ticksOf(svc.services, EVERY_SECOND)).length).toBe(before);
    });

    it('two rules with the same schedule share one timer; a rule with bad parameters is not scheduled', async () => {
      const params = { unit: 'hours', delta: 6 };
      await addRule(svc.services, 'six_hours_a', params);
      await addRule(svc.services, 'six_hours_b', { delta: 6, unit: 'hours' });
      await addRule(svc.services, 'broken', { unit: 'fortnights', delta: 1 });
      const timer = await waitFor(async () => {
        const { body } = await api('/api/v1/timers');
        return body.find(
          (t: Json) => t.ref === triggerRefFor(INTERVAL_TIMER, params) && t.rules.length === 2,
        );
      }, 'one timer for both rules');
      expect(timer.rules).toEqual(['timertest.six_hours_a', 'timertest.six_hours_b']);
      const { body } = await api('/api/v1/timers');
      expect(body).toHaveLength(1);
    });

    it('a timer that cannot be scheduled (delta 1e300) does not stop another from firing', async () => {
      const fine = { unit: 'seconds', delta: 2 };
      const huge = await addRule(svc.services, 'a_huge', { unit: 'seconds', delta: 1e300 });
      const ok = await addRule(svc.services, 'b_fine', fine);
      try {
        const report = await getTimerEngine(svc.services).reconcile();
        expect(report.invalid.map((i) => i.rule)).toContain('timertest.a_huge');
        expect(report.invalid.find((i) => i.rule === 'timertest.a_huge')?.error).toContain('"delta"');
        await waitFor(
          async () => (await ticksOf(svc.services, fine)).length >= 2,
          'two ticks of the 2 s timer',
          20_000,
        );
      } finally {
        await setEnabled(svc.services, huge, false);
        await setEnabled(svc.services, ok, false);
        await getTimerEngine(svc.services).reconcile();
      }
    });

    it('a tick claimed by a process killed before it dispatched it is fired by the next, once', async () => {
      const params = { unit: 'minutes', delta: 7 };
      const ref = triggerRefFor(INTERVAL_TIMER, params);
      const tick = Date.parse('2026-01-01T00:07:00.000Z');
      const executedAt = new Date(tick).toISOString();
      // The dead worker never heartbeated and claimed an hour ago.
      await svc.services.store.claims.insert({
        id: `timer:${ref}:${executedAt}`,
        owner: 'deadhost:4242:abcdef#0',
        claimed_at: new Date(Date.now() - 3_600_000).toISOString(),
      });
      const engine = getTimerEngine(svc.services);
      const data = { ref, type: INTERVAL_TIMER, parameters: params } as const;
      // The taker looks its instance up once (storedIds); dispatch does not read it by id again.
      let fired: boolean | undefined;
      const reads = await readsDuring(svc.services.store.triggerInstances, async () => {
        fired = await engine.fire(data, tick);
      });
      expect(fired).toBe(true);
      expect(reads).toEqual([]);
      // Now claimed by a live process: not fired again.
      expect(await engine.fire(data, tick)).toBe(false);
      expect(await ticksOf(svc.services, params)).toEqual([executedAt]);
    });

    it("a tick's instance id leads with the tick's time; a dead older owner's instance (idFor) is found, not stored again", async () => {
      const params = { unit: 'minutes', delta: 11 };
      const ref = triggerRefFor(INTERVAL_TIMER, params);
      const engine = getTimerEngine(svc.services);
      const data = { ref, type: INTERVAL_TIMER, parameters: params } as const;
      const tick = Date.parse('2026-01-01T00:11:00.000Z');
      expect(await engine.fire(data, tick)).toBe(true);
      const [fired] = await svc.services.store.triggerInstances.find({ trigger: ref });
      // Ids of ticks in a row land side by side in the instances' index, as newId's do.
      expect(fired.id.slice(0, 8)).toBe((tick / 1000).toString(16));
      // A process of an older version claimed the next tick, stored its instance and died.
      const later = Date.parse('2026-01-01T00:22:00.000Z');
      const executedAt = new Date(later).toISOString();
      const key = `timer:${ref}:${executedAt}`;
      await svc.services.store.claims.insert({
        id: key,
        owner: 'deadhost:4242:abcdef#0',
        claimed_at: new Date(Date.now() - 3_600_000).toISOString(),
      });
      await svc.services.store.triggerInstances.insert({
        id: idFor(key),
        trigger: ref,
        trigger_type: INTERVAL_TIMER,
        payload: { executed_at: executedAt, schedule: params },
        occurrence_time: executedAt,
        status: 'processed',
      } as never);
      expect(await engine.fire(data, later)).toBe(true);
      expect(await ticksOf(svc.services, params)).toEqual([new Date(tick).toISOString(), executedAt]);
    });

    it('squall timer list|get show the timers', async () => {
      const params = { unit: 'hours', delta: 6 };
      const ref = triggerRefFor(INTERVAL_TIMER, params);
      const list = await squall(svc.url, ['timer', 'list', '--timer-type', INTERVAL_TIMER, '--json']);
      expect(list.code, list.stderr).toBe(0);
      expect(JSON.parse(list.stdout).map((t: Json) => t.ref)).toEqual([ref]);
      const get = await squall(svc.url, ['timer', 'get', ref]);
      expect(get.code, get.stderr).toBe(0);
      expect(get.stdout).toContain('every 6 hours');
      expect(get.stdout).toContain('timertest.six_hours_a');
      const cron = await squall(svc.url, ['timer', 'list', '--timer-type', 'core.st2.CronTimer']);
      expect(cron.stdout).toContain('No matching items found.');
      const missing = await squall(svc.url, ['timer', 'get', 'core.nope']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('core.nope');
    });
  });
}

describeWithServer(
  'timers across two processes (mongo)',
  'MongoDB (SQUALL_TEST_MONGO_URL)',
  Boolean(MONGO_URL),
  () => {
    let a: TestService;
    let b: TestService;
    beforeAll(async () => {
      const url = freshMongoUrl();
      a = await start(url);
      b = await start(url);
    });
    afterAll(async () => {
      await a?.cleanup();
      await b?.cleanup();
    });

    it('two schedulers on the same database still give exactly one trigger instance per tick', async () => {
      const params = { unit: 'seconds', delta: 1, timezone: 'UTC' };
      await addRule(a.services, 'shared', params);
      // b never sees the rule event (no Redis between them); it shares the job through the database.
      const ticks = await waitFor(
        async () => {
          const t = await ticksOf(a.services, params);
          return t.length >= 5 ? t : null;
        },
        '5 ticks of the shared timer',
        25_000,
      );
      expectOncePerTick(ticks, 1000);
      const jobs = await b.services.scheduler.agenda.queryJobs({ name: 'timer.tick' });
      expect(jobs.jobs).toHaveLength(1);
    });
  },
);
