import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { startEvents, type EventsService } from '../webhooks/support.js';

const embedded = STORE_TARGETS.find((t) => t.kind === 'embedded')!;

/** The timers issue 18 (item 6) found accepted with 201, and the field each 400 must name. */
const BAD_TIMERS: Array<[string, Record<string, unknown>, string]> = [
  ['core.st2.CronTimer', { minute: '99' }, 'trigger.parameters.minute'],
  ['core.st2.CronTimer', { minute: '*/0' }, 'trigger.parameters.minute'],
  ['core.st2.CronTimer', { hour: 'abc' }, 'trigger.parameters.hour'],
  ['core.st2.CronTimer', { day_of_week: '9' }, 'trigger.parameters.day_of_week'],
  ['core.st2.CronTimer', { minute: '0', timezone: 'Mars/Olympus' }, 'trigger.parameters.timezone'],
  ['core.st2.IntervalTimer', { unit: 'seconds', delta: 0 }, 'trigger.parameters.delta'],
  ['core.st2.IntervalTimer', { unit: 'seconds', delta: -5 }, 'trigger.parameters.delta'],
  ['core.st2.IntervalTimer', { unit: 'seconds', delta: 1e300 }, 'trigger.parameters.delta'],
];

describeWithServer('timer parameters checked at rule create and update', 'the embedded store', true, () => {
  let s: EventsService;
  beforeAll(async () => {
    s = await startEvents(embedded);
  }, 60_000);
  afterAll(async () => s?.svc.cleanup());

  const rule = (type: string, parameters: Record<string, unknown>) => ({
    name: 'ticking',
    pack: 'timers',
    enabled: true,
    trigger: { type, parameters },
    action: { ref: 'core.noop' },
  });

  it.each(BAD_TIMERS)('%s %j is refused with a 400 naming %s', async (type, parameters, field) => {
    const res = await s.api('POST', '/api/v1/rules', rule(type, parameters));
    expect(res.status, res.text).toBe(400);
    expect(res.body.faultstring ?? res.text).toContain(`${field}:`);
  });

  it('an update to a bad timer is refused too, and the rule keeps its timer', async () => {
    const good = await s.api(
      'POST',
      '/api/v1/rules',
      rule('core.st2.IntervalTimer', { unit: 'hours', delta: 6 }),
    );
    expect(good.status, good.text).toBe(201);
    for (const [type, parameters, field] of BAD_TIMERS) {
      const res = await s.api('PUT', `/api/v1/rules/${good.body.id}`, rule(type, parameters));
      expect(res.status, res.text).toBe(400);
      expect(res.body.faultstring ?? res.text).toContain(`${field}:`);
    }
    const kept = await s.api('GET', `/api/v1/rules/${good.body.id}`);
    expect(kept.body.trigger.parameters).toEqual({ unit: 'hours', delta: 6 });
  });
});
