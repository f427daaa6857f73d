import { afterAll, beforeAll, expect, it } from 'vitest';
import { MONGO_URL, REDIS_URL, describeWithServer } from '../support/servers.js';
import { startDelayProxy, type DelayProxy } from '../support/delay-proxy.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
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
    /** The worker's link to Redis: what Redis sends it can be held, as on a far or busy host. */
    let link: DelayProxy;

    beforeAll(async () => {
      link = await startDelayProxy(REDIS_URL!);
      editor = await cluster.start('api');
      worker = await cluster.start('api,rules,runner', { SQUALL_REDIS_URL: link.url });
    }, 180_000);
    afterAll(async () => {
      await cluster.stopAll();
      await link.close();
    });

    const run = (action: string) => api(worker.url, 'POST', '/api/v1/executions', { action });
    /** Sets core.noop's `enabled` through the editor; answers how long the editor took. */
    const setEnabled = async (enabled: boolean) => {
      const started = Date.now();
      expect((await api(editor.url, 'PUT', '/api/v1/actions/core.noop', { enabled })).status).toBe(200);
      return Date.now() - started;
    };
    const expectRefused = async () => {
      const refused = await run('core.noop');
      expect(refused.status, JSON.stringify(refused.body)).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(refused.body)).toMatch(/disabled/i);
    };
    const expectRuns = async () => {
      const ran = await run('core.noop');
      expect(ran.status, JSON.stringify(ran.body)).toBe(201);
    };

    it('an action disabled on one process is refused by the next request on another, and runs once enabled again', async () => {
      for (let i = 0; i < 2; i++) await expectRuns();
      await setEnabled(false);
      await expectRefused();
      await setEnabled(true);
      await expectRuns();
    }, 60_000);

    it('the change is seen there even when that process hears Redis late: the writer answers once it has', async () => {
      await expectRuns();
      link.delayMs = 300;
      try {
        // The editor waits for the worker's acknowledgement, which comes through the slow link.
        expect(await setEnabled(false)).toBeGreaterThanOrEqual(300);
        await expectRefused();
        await setEnabled(true);
        await expectRuns();
      } finally {
        link.delayMs = 0;
      }
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

/**
 * On MongoDB without Redis nothing carries one process's writes to the others: each checks a
 * version marker that every content write changes (at most every 250 ms) before serving what it
 * kept. Without the marker a process that kept core.noop would run it forever after it was disabled
 * elsewhere; with every read going to the store (no cache) the change would be seen, but each
 * webhook paid ~16 whole-collection reads on FerretDB.
 */
describeWithServer(
  'content changed through one process is seen soon by another on MongoDB without Redis',
  'FerretDB/MongoDB (SQUALL_TEST_MONGO_URL)',
  Boolean(MONGO_URL),
  () => {
    const cluster = new Cluster();
    const started: ServiceProcess[] = [];
    let editor: ServiceProcess;
    let worker: ServiceProcess;
    const start = async (roles: string) => {
      const { SQUALL_REDIS_URL: _redis, ...env } = cluster.env();
      const p = await startServiceProcess(['--roles', roles], env, 60_000);
      started.push(p);
      return p;
    };

    beforeAll(async () => {
      editor = await start('api');
      worker = await start('api,rules,runner');
    }, 180_000);
    afterAll(async () => {
      await Promise.all(started.map((p) => p.stop()));
      cluster.data.cleanup();
    });

    const run = (action: string) => api(worker.url, 'POST', '/api/v1/executions', { action });
    /** Polls `run` until `ok` holds; the change must arrive within seconds, not on a restart. */
    const within = async (ok: (status: number) => boolean) => {
      const until = Date.now() + 15_000;
      for (;;) {
        const res = await run('core.noop');
        if (ok(res.status)) return res;
        if (Date.now() > until) throw new Error(`still ${res.status} after 15 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    it('an action disabled on one process is refused on another, and runs there again once enabled', async () => {
      for (let i = 0; i < 3; i++) expect((await run('core.noop')).status).toBe(201);
      expect((await api(editor.url, 'PUT', '/api/v1/actions/core.noop', { enabled: false })).status).toBe(
        200,
      );
      expect(JSON.stringify((await within((s) => s >= 400)).body)).toMatch(/disabled/i);
      expect((await api(editor.url, 'PUT', '/api/v1/actions/core.noop', { enabled: true })).status).toBe(200);
      await within((s) => s === 201);
    }, 90_000);
  },
);
