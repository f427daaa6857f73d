import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../src/ids.js';
import { allSubsystems, startTestApi, type TestApi } from '../../support/api.js';
import { executionRecord, seedEnforcements, type SeedExecution } from '../../support/history.js';

/**
 * Issue 24: the dashboard's aggregate endpoints. Each figure is checked against a seeded history
 * and against what the list endpoints (History) answer for the same filter.
 */
describe('stats API: the dashboard figures, computed in the store', () => {
  let api: TestApi;
  const seeded: SeedExecution[] = [
    { action: 'demo.fast', status: 'succeeded', minutesAgo: 5, elapsed: 1 },
    { action: 'demo.fast', status: 'succeeded', minutesAgo: 65, elapsed: 3 },
    { action: 'demo.fast', status: 'failed', minutesAgo: 70, elapsed: 2 },
    { action: 'demo.slow', status: 'succeeded', minutesAgo: 130, elapsed: 40 },
    { action: 'demo.slow', status: 'timeout', minutesAgo: 600, elapsed: 60, rule: 'demo.on_push' },
    { action: 'demo.other', status: 'running', minutesAgo: 1 },
    // older than 24 h, inside 7 d / 30 d
    { action: 'demo.fast', status: 'succeeded', minutesAgo: 3 * 24 * 60, elapsed: 1 },
    { action: 'demo.fast', status: 'failed', minutesAgo: 20 * 24 * 60, elapsed: 1 },
  ];

  beforeAll(async () => {
    api = await startTestApi({ subsystems: await allSubsystems() });
    const store = api.services.store;
    const records = seeded.map((s) => executionRecord(s));
    // a child execution, which History leaves out by default, and so do the figures
    records.push(
      executionRecord({ action: 'demo.fast', status: 'failed', minutesAgo: 5, parent: records[0].id }),
    );
    await store.executions.insertMany(records);
    await seedEnforcements(store, 'demo.on_push', 3);
    await seedEnforcements(store, 'demo.nightly', 1);
    await seedEnforcements(store, 'demo.ancient', 2, 40 * 24 * 60);
    await store.inquiries.insertMany([
      { id: newId(), status: 'pending' },
      { id: newId(), status: 'pending' },
      { id: newId(), status: 'succeeded' },
    ]);
    await store.liveExecutions.insertMany([
      { id: newId(), status: 'requested', since: new Date().toISOString() },
      { id: newId(), status: 'scheduled', since: new Date().toISOString() },
      { id: newId(), status: 'running', since: new Date().toISOString() },
    ]);
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
  });

  const get = async (path: string, token?: string) => {
    const res = await api.request('GET', path, { token });
    expect(res.status, `GET ${path}: ${JSON.stringify(res.body)}`).toBe(200);
    return res;
  };
  /** X-Total-Count of History's query for the same executions. */
  const historyCount = async (query: Record<string, string>) =>
    Number(
      (
        await get(`/api/v1/executions?${new URLSearchParams({ parent: 'null', limit: '1', ...query })}`)
      ).headers.get('X-Total-Count'),
    );
  const justBefore = (iso: string) => new Date(Date.parse(iso) - 1).toISOString();

  it('counts executions per hour and status over 24 h, with the failure rate', async () => {
    const s = (await get('/api/v1/stats/executions?range=24h')).body;
    expect(s.bucket).toBe('hour');
    expect(s.buckets).toHaveLength(24);
    expect(s.total).toBe(6);
    expect(s.by_status).toEqual({ succeeded: 3, failed: 1, timeout: 1, running: 1 });
    expect(s.completed).toBe(5);
    expect(s.failed).toBe(2);
    expect(s.failure_rate).toBeCloseTo(2 / 5);
    const perBucket = s.buckets.reduce(
      (n: number, b: { counts: Record<string, number> }) =>
        n + Object.values(b.counts).reduce((a, c) => a + c, 0),
      0,
    );
    expect(perBucket).toBe(6);
    // the newest bucket holds now: the 5- and 1-minute-old executions are in it or the one before
    const last2 = s.buckets.slice(-2).map((b: { counts: Record<string, number> }) => b.counts);
    expect((last2[0].succeeded ?? 0) + (last2[1].succeeded ?? 0)).toBeGreaterThanOrEqual(1);
    // History, asked for the same window, lists as many
    expect(await historyCount({ timestamp_gt: justBefore(s.since), timestamp_lt: s.until })).toBe(6);
    expect(
      await historyCount({
        timestamp_gt: justBefore(s.since),
        timestamp_lt: s.until,
        status: 'failed,timeout,abandoned',
      }),
    ).toBe(2);
    for (const b of s.buckets as { start: string; counts: Record<string, number> }[]) {
      const n = Object.values(b.counts).reduce((a, c) => a + c, 0);
      if (n === 0) continue;
      const end = new Date(Date.parse(b.start) + 3_600_000).toISOString();
      expect(await historyCount({ timestamp_gt: justBefore(b.start), timestamp_lt: end })).toBe(n);
    }
  });

  it('draws 7 d per hour and 30 d per day, and refuses another range', async () => {
    const week = (await get('/api/v1/stats/executions?range=7d')).body;
    expect(week.buckets).toHaveLength(168);
    expect(week.total).toBe(7);
    const month = (await get('/api/v1/stats/executions?range=30d')).body;
    expect(month.bucket).toBe('day');
    expect(month.buckets).toHaveLength(30);
    expect(month.total).toBe(8);
    expect(month.by_status.failed).toBe(2);
    const bad = await api.request('GET', '/api/v1/stats/executions?range=1y');
    expect(bad.status).toBe(400);
    expect(bad.body.faultstring).toContain('range');
  });

  it('names the most frequent and the slowest actions', async () => {
    const a = (await get('/api/v1/stats/actions?range=24h')).body;
    expect(a.most_frequent.map((f: { action: string; count: number }) => [f.action, f.count])).toEqual([
      ['demo.fast', 3],
      ['demo.slow', 2],
      ['demo.other', 1],
    ]);
    expect(a.most_frequent[0].failed).toBe(1);
    expect(a.slowest.map((f: { action: string; avg_seconds: number }) => [f.action, f.avg_seconds])).toEqual([
      ['demo.slow', 50],
      ['demo.fast', 2],
    ]);
    expect(await historyCount({ action: 'demo.fast', timestamp_gt: justBefore(a.since) })).toBe(3);
  });

  it('names the rules that fired most, from their enforcements in the range', async () => {
    const r = (await get('/api/v1/stats/rules?range=24h')).body;
    expect(r.total).toBe(4);
    expect(r.most_fired).toEqual([
      { rule: 'demo.on_push', count: 3, failed: 0 },
      { rule: 'demo.nightly', count: 1, failed: 0 },
    ]);
  });

  it('reports queue depth, unfinished executions and pending inquiries', async () => {
    const q = (await get('/api/v1/stats/queue')).body;
    expect(q).toEqual({
      depth: 2,
      by_status: { requested: 1, scheduled: 1, running: 1 },
      pending_inquiries: 2,
    });
  });

  it('reports sensor health from the registered sensors', async () => {
    const s = (await get('/api/v1/stats/sensors')).body;
    const listed = (await get('/api/v1/sensortypes')).body as { enabled: boolean }[];
    expect(s.total).toBe(listed.length);
    expect(s.enabled).toBe(listed.filter((x) => x.enabled).length);
    expect(s.failing).toEqual([]);
  });

  it('lets an observer read every figure and refuses a user without a role', async () => {
    const olga = await api.tokenFor('olga', ['observer']);
    const nobody = await api.tokenFor('nobody', []);
    for (const path of ['executions', 'actions', 'rules', 'queue', 'sensors']) {
      await get(`/api/v1/stats/${path}`, olga);
      const denied = await api.request('GET', `/api/v1/stats/${path}`, { token: nobody });
      expect(denied.status, path).toBe(403);
    }
  });

  it('documents every stats endpoint in the OpenAPI document', async () => {
    const doc = (await get('/api/v1/openapi.json')).body;
    for (const path of ['executions', 'actions', 'rules', 'queue', 'sensors']) {
      const op = doc.paths[`/api/v1/stats/${path}`]?.get;
      expect(op, path).toBeDefined();
      expect(op.responses['200'].content['application/json'].schema.type).toBe('object');
      expect(op.responses['401']).toBeDefined();
    }
    expect(doc.paths['/api/v1/stats/executions'].get.parameters[0]).toMatchObject({
      name: 'range',
      schema: { enum: ['24h', '7d', '30d'] },
    });
  });
});
