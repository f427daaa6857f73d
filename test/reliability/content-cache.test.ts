import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithServer } from '../support/servers.js';
import type { ServiceProcess } from '../support/service-process.js';
import { CLUSTER_AVAILABLE, CLUSTER_NEEDS, Cluster, api } from './cluster.js';

/**
 * Each process keeps the content it reads (actions, rules…) in memory (issue 19). A change made
 * through the API of one process must be what the very next event on another process sees: the
 * writer tells the others over Redis before it answers. A cache that is not told serves the old
 * record, and these assertions see it.
 */
describeWithServer(
  'content changed through one process is seen by the next event on another (content cache)',
  CLUSTER_NEEDS,
  CLUSTER_AVAILABLE,
  () => {
    const cluster = new Cluster();
    let editor: ServiceProcess;
    let worker: ServiceProcess;

    beforeAll(async () => {
      editor = await cluster.start('api');
      worker = await cluster.start('api,rules,runner');
    }, 180_000);
    afterAll(() => cluster.stopAll());

    const run = (action: string) => api(worker.url, 'POST', '/api/v1/executions', { action });

    it('an action disabled on one process is refused by the next request on another, and runs once enabled again', async () => {
      for (let i = 0; i < 2; i++) expect((await run('core.noop')).status).toBe(201);

      expect((await api(editor.url, 'PUT', '/api/v1/actions/core.noop', { enabled: false })).status).toBe(
        200,
      );
      const refused = await run('core.noop');
      expect(refused.status, JSON.stringify(refused.body)).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(refused.body)).toMatch(/disabled/i);

      expect((await api(editor.url, 'PUT', '/api/v1/actions/core.noop', { enabled: true })).status).toBe(200);
      expect((await run('core.noop')).status).toBe(201);
    }, 60_000);

    it("a rule's new action parameters, set on one process, are what the next webhook on another runs", async () => {
      const rule = (cmd: string) => ({
        name: 'cache_probe',
        pack: 'core',
        enabled: true,
        trigger: { type: 'core.st2.webhook', parameters: { url: 'cache_probe' } },
        criteria: {},
        action: { ref: 'core.local', parameters: { cmd } },
      });
      const hook = async () => {
        const r = await api(worker.url, 'POST', '/api/v1/webhooks/cache_probe?wait=20', { n: 1 });
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        return r.body.executions.map((e: { result?: { stdout?: string } }) => e.result?.stdout);
      };
      expect((await api(editor.url, 'POST', '/api/v1/rules', rule('echo first'))).status).toBe(201);
      expect(await hook()).toEqual(['first']);
      expect(await hook()).toEqual(['first']);

      expect(
        (await api(editor.url, 'PUT', '/api/v1/rules/core.cache_probe', rule('echo second'))).status,
      ).toBe(200);
      expect(await hook()).toEqual(['second']);
    }, 90_000);
  },
);
