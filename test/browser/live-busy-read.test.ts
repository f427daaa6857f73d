/**
 * A live page whose subject is updated many times a second still shows it, and reads it a bounded
 * number of times. A trace of a busy with-items run gets an update of one of its executions every
 * few milliseconds; each read of the trace is made slow here (the server's answer is held half a
 * second, as a large trace on a loaded server takes), so every read has updates during it. A page
 * that drops (or aborts) a read whenever an update came during it never shows the trace while the
 * run is busy: it stayed on "Loading the trace" until the run ended.
 */
import type { Route } from 'playwright-core';
import { expect, it } from 'vitest';
import path from 'node:path';
import { waitFor } from '../support/wait.js';
import { describeBrowser } from './harness.js';

const ITEMS = 60;
const READ_MS = 500;
/** The UI's least time between two reads' starts (REREAD_GAP_MS in src/web/src/ui.tsx). */
const GAP_MS = 300;
const TREE = '/api/v1/traces/views/tree';

/** Answers a read READ_MS late, as a large answer on a loaded server comes. */
async function slow(route: Route): Promise<void> {
  const response = await route.fetch();
  await new Promise((r) => setTimeout(r, READ_MS));
  try {
    await route.fulfill({ response });
  } catch (err) {
    // A page that aborts a read it no longer wants is done with the request already.
    if (!/Route is already handled/.test((err as Error).message)) throw err;
  }
}

const RACE_PACKS = { 'packs.paths': [path.join(import.meta.dirname, 'fixtures', 'race-packs')] };

describeBrowser('a live page kept busy by updates in headless chromium', RACE_PACKS, (h) => {
  /** Starts a busy run with the stream open; returns once its items have started coming. */
  const startBusyRun = async (): Promise<string> => {
    await h.b.page.goto('/');
    await h.b.page.locator('.stream-open').waitFor({ timeout: 15_000 });
    const started = await h.api('POST', '/api/v1/executions', {
      action: 'uirace.busy',
      parameters: { items: Array.from({ length: ITEMS }, (_, i) => i) },
    });
    expect(started.status, started.text).toBe(201);
    const id = started.body.id as string;
    await waitFor(
      async () => (await h.api('GET', `/api/v1/executions?parent=${id}&limit=5`)).body.length >= 4,
      `${id}'s items to start`,
      30_000,
    );
    return id;
  };

  it('a trace of a busy with-items run shows while the run is busy, ends on its final state, and reads a bounded number of times', async () => {
    await h.signedIn();
    const { page } = h.b;
    const isTree = (url: URL) => url.pathname === TREE;
    await page.route(isTree, slow);
    let reads = 0;
    const count = (req: { url(): string; method(): string }) => {
      if (req.method() === 'GET' && new URL(req.url()).pathname === TREE) reads += 1;
    };
    page.on('request', count);
    try {
      const id = await startBusyRun();
      const opened = Date.now();
      await page.evaluate(
        (to) => ((globalThis as unknown as { location: { hash: string } }).location.hash = to),
        `#/trace/execution/${id}`,
      );

      // The trace leaves "Loading" while the run is still busy.
      await page.getByRole('list', { name: 'Trace' }).waitFor({ timeout: 30_000 });
      const meanwhile = await h.api('GET', `/api/v1/executions/${id}`);
      expect(meanwhile.body.status).toBe('running');

      // It ends on the run's final state: the workflow and each of its items succeeded.
      await waitFor(
        async () => (await h.api('GET', `/api/v1/executions/${id}`)).body.status === 'succeeded',
        `${id} to succeed`,
        120_000,
      );
      const ended = Date.now();
      const succeeded = page.locator('li[data-kind="execution"] > .trace-node > .status', {
        hasText: 'succeeded',
      });
      await waitFor(
        async () => (await succeeded.count()) === ITEMS + 1,
        'the trace to show every execution succeeded',
        15_000,
      );
      await expect(page.locator(`li[data-id="${id}"] > .trace-node > .status`).textContent()).resolves.toBe(
        'succeeded',
      );
      await expect(page.getByRole('status').filter({ hasText: 'Loading the trace' }).count()).resolves.toBe(
        0,
      );

      // Reads one at a time, at most one per GAP_MS: not one per update (there were hundreds).
      const busyReads = reads;
      const bound = Math.ceil((ended - opened + 2 * READ_MS) / Math.max(GAP_MS, READ_MS)) + 3;
      expect(busyReads, `${busyReads} reads in ${ended - opened} ms`).toBeLessThanOrEqual(bound);
      await h.b.assertClean();
    } finally {
      page.off('request', count);
      await page.unroute(isTree, slow);
    }
  }, 180_000);
  it('an execution page of a busy with-items run shows the run and its timeline while it is busy, and ends on its final state', async () => {
    await h.signedIn();
    const { page } = h.b;
    // The execution's and its graph's reads are slow: updates come during each.
    const isRead = (url: URL) =>
      url.pathname === '/api/v1/workflows/graph' ||
      (url.pathname.startsWith('/api/v1/executions/') && url.searchParams.has('exclude_attributes'));
    await page.route(isRead, slow);
    try {
      const id = await startBusyRun();
      await page.evaluate(
        (to) => ((globalThis as unknown as { location: { hash: string } }).location.hash = to),
        `#/history/${id}`,
      );
      const status = () => h.api('GET', `/api/v1/executions/${id}`).then((r) => r.body.status as string);

      // The page leaves "Loading" while the run is busy, and its timeline follows the items as they
      // end, not only once the run went quiet.
      const heading = page.getByRole('heading', { level: 1 });
      await heading.filter({ hasText: 'uirace.busy' }).waitFor({ timeout: 30_000 });
      const timeline = page.getByRole('figure', { name: 'Run timeline' });
      await timeline.waitFor({ timeout: 30_000 });
      const done = timeline.locator('.gantt-bar[data-status="succeeded"]');
      const first = await done.count();
      expect(await status()).toBe('running');
      await waitFor(
        async () => (await done.count()) > first,
        'the timeline to show more items ended',
        30_000,
      );
      expect(await status(), 'the timeline followed the items while the run was busy').toBe('running');

      // It ends on the run's final state.
      await waitFor(async () => (await status()) === 'succeeded', `${id} to succeed`, 120_000);
      await waitFor(
        async () => (await heading.locator('.status').textContent()) === 'succeeded',
        'the page to show the run succeeded',
        15_000,
      );
      await waitFor(
        async () => (await done.count()) >= ITEMS,
        'the timeline to show every item ended',
        15_000,
      );
      await expect(page.getByRole('status').filter({ hasText: 'Loading' }).count()).resolves.toBe(0);
      await h.b.assertClean();
    } finally {
      await page.unroute(isRead, slow);
    }
  }, 180_000);
});
