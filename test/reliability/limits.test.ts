import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServer } from '../support/servers.js';
import type { ServiceProcess } from '../support/service-process.js';
import { waitFor } from '../support/wait.js';
import { CLUSTER_AVAILABLE, CLUSTER_NEEDS, Cluster, api, pool, rssMb, waitTerminal } from './cluster.js';

const MB = 1024 * 1024;

describeWithServer(
  'a 50 MB result round-trips (stored apart, returned whole)',
  CLUSTER_NEEDS,
  CLUSTER_AVAILABLE,
  () => {
    const cluster = new Cluster();
    let proc: ServiceProcess;
    beforeAll(async () => {
      proc = await cluster.start('all');
    }, 120_000);
    afterAll(() => cluster.stopAll());

    it('GET /executions/:id and /result return all 50 MB; the record keeps a preview', async () => {
      const size = 50 * MB;
      const r = await api(proc.url, 'POST', '/api/v1/executions', {
        action: 'core.local',
        parameters: { cmd: `head -c ${size} /dev/zero | tr '\\0' x`, timeout: 240 },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const store = await cluster.store();
      const [done] = await waitTerminal(store, [r.body.id], 250_000);
      expect(done.status).toBe('succeeded');
      const record = await store.executions.get(r.body.id);
      expect(String(record!.result_ref)).toMatch(/^gridfs:/);
      expect(JSON.stringify(record!.result).length).toBeLessThan(16 * 1024);

      const result = await api(proc.url, 'GET', `/api/v1/executions/${r.body.id}/result`);
      expect(result.status).toBe(200);
      expect(result.body.stdout.length).toBe(size);
      expect(result.body.stdout.slice(0, 10)).toBe('xxxxxxxxxx');
      const whole = await api(proc.url, 'GET', `/api/v1/executions/${r.body.id}`);
      expect(whole.status).toBe(200);
      expect(whole.body.status).toBe('succeeded');
      expect(whole.body.result.stdout.length).toBe(size);
    }, 200_000);
  },
);

describeWithServer(
  'a flood past the queue limit gets 429s and the service recovers',
  CLUSTER_NEEDS,
  CLUSTER_AVAILABLE,
  () => {
    const LIMIT = 20;
    const cluster = new Cluster({ SQUALL_BACKPRESSURE_MAX_QUEUE_DEPTH: String(LIMIT) });
    let apiProc: ServiceProcess;
    beforeAll(async () => {
      apiProc = await cluster.start('api');
    }, 120_000);
    afterAll(() => cluster.stopAll());

    it('refuses with 429 + Retry-After while no runner drains the queue, with bounded memory, then accepts again', async () => {
      // No runner yet: everything accepted stays queued.
      const statuses = await pool(
        Array.from({ length: 40 }),
        4,
        async () => (await api(apiProc.url, 'POST', '/api/v1/executions', { action: 'core.noop' })).status,
      );
      const accepted = statuses.filter((s) => s === 201).length;
      expect(accepted).toBeGreaterThanOrEqual(LIMIT);
      expect(accepted).toBeLessThan(40);
      const refused = await api(apiProc.url, 'POST', '/api/v1/executions', { action: 'core.noop' });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(refused.body.code).toBe('QUEUE_FULL');
      const hook = await api(apiProc.url, 'POST', '/api/v1/webhooks/anything', { a: 1 });
      expect(hook.status).toBe(429);

      // The flood: every request refused at the door, memory flat.
      const before = rssMb(apiProc.child.pid!);
      const flood = await pool(
        Array.from({ length: 3000 }),
        16,
        async () =>
          (
            await api(apiProc.url, 'POST', '/api/v1/executions', {
              action: 'core.noop',
              parameters: { pad: 'x'.repeat(2000) },
            })
          ).status,
      );
      const after = rssMb(apiProc.child.pid!);
      console.log(
        JSON.stringify({
          test: 'flood',
          requests: flood.length,
          refused: flood.filter((s) => s === 429).length,
          rss_before_mb: before,
          rss_after_mb: after,
        }),
      );
      expect(flood.every((s) => s === 429)).toBe(true);
      expect(after - before).toBeLessThan(100);
      const metrics = await api(apiProc.url, 'GET', '/api/v1/metrics/queue');
      expect(metrics.body).toMatchObject({ limit: LIMIT, refusing: true });
      expect(metrics.body.depth).toBeGreaterThanOrEqual(LIMIT);

      // A runner drains the queue; intake opens again.
      await cluster.start('runner');
      await waitFor(
        async () => (await api(apiProc.url, 'GET', '/api/v1/metrics/queue')).body.depth === 0,
        'the queue to drain',
        60_000,
        500,
      );
      const again = await api(apiProc.url, 'POST', '/api/v1/executions', { action: 'core.noop' });
      expect(again.status).toBe(201);
      const prom = await api(apiProc.url, 'GET', '/metrics');
      expect(String(prom.body)).toMatch(/squall_execution_queue_depth \d+/);
    }, 200_000);
  },
);
