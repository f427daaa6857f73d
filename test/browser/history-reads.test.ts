/**
 * History's reads around its live stream's openings: a first load reads the first page once (it
 * read it before the stream opened and again at the opening), and a reconnection reads again the
 * pages the user has (it started the list again from the top, losing their place and pages).
 */
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { executionRecord, seedBulkHistory } from '../support/history.js';
import { waitFor } from '../support/wait.js';
import { describeBrowser } from './harness.js';

const N = 250;

interface PageGlobals {
  requestAnimationFrame(fn: () => void): number;
  EventSource: new (url: string, init?: unknown) => StreamLike;
  __streams: StreamLike[];
}
interface StreamLike {
  readyState: number;
  onopen: ((e: unknown) => void) | null;
  onerror: ((e: unknown) => void) | null;
  addEventListener(name: string, fn: (e: unknown) => void, options?: unknown): void;
  /** Set by the test: the stream's events are dropped, as if it were down. */
  __down?: boolean;
}

/** Keeps the page's EventSources, and drops their events while the test has one "down". */
function keepStreams(): void {
  const w = globalThis as unknown as PageGlobals;
  w.__streams = [];
  // A proxy, not a subclass: EventSource.CLOSED and the like stay as the page's code reads them.
  w.EventSource = new Proxy(w.EventSource, {
    construct(target, args: [string, unknown?]) {
      const stream = new target(...args);
      w.__streams.push(stream);
      const add = stream.addEventListener.bind(stream);
      stream.addEventListener = (name, fn, options) =>
        add(name, (e) => (stream.__down ? undefined : fn(e)), options);
      return stream;
    },
  });
}

/** Lets the page render what its code set before now, and start what that asks for. */
const settled = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<void>((r) =>
        (globalThis as unknown as PageGlobals).requestAnimationFrame(() => setTimeout(r, 100)),
      ),
  );

describeBrowser("History's reads around its live stream in headless chromium", (h) => {
  /** Offsets of the list reads the page made, in order. */
  const reads: number[] = [];

  beforeAll(async () => {
    await seedBulkHistory(h.running.services.store, N);
    await h.b.page.addInitScript(keepStreams);
    h.b.page.on('request', (r) => {
      const url = new URL(r.url());
      if (
        r.method() === 'GET' &&
        url.pathname === '/api/v1/executions' &&
        url.searchParams.get('parent') === 'null'
      )
        reads.push(Number(url.searchParams.get('offset') ?? 0));
    });
  }, 300_000);

  const streamOpen = () =>
    waitFor(
      () =>
        h.b.page.evaluate(() =>
          (globalThis as unknown as PageGlobals).__streams.some((s) => s.readyState === 1),
        ),
      'the live stream to open',
    );

  it('reads the first page once on a first load', async () => {
    await h.signedIn();
    const { page } = h.b;
    await page.goto('about:blank');
    reads.length = 0;
    await page.goto('/#/history');
    await page.getByText(`${N} executions`, { exact: true }).waitFor();
    await streamOpen();
    await settled(page);
    expect(reads).toEqual([0]);
  });

  it('after a reconnection keeps the pages and place the user had, and lists the runs made meanwhile on top', async () => {
    const { page } = h.b;
    const list = page.getByRole('listbox', { name: 'Executions' });
    await list.evaluate((el) => {
      el.scrollTop = 150 * 36;
      el.dispatchEvent(new Event('scroll'));
    });
    await waitFor(() => reads.includes(100), 'the second page read');
    const row = page.locator('#vrow-150 [data-execution-id]');
    await row.waitFor();
    const id = await row.getAttribute('data-execution-id');
    const top = await list.evaluate((el) => el.scrollTop);
    expect(top).toBeGreaterThan(0);

    // The stream goes down: what is published meanwhile never reaches the page.
    await page.evaluate(() => {
      const s = (globalThis as unknown as PageGlobals).__streams.find((x) => x.readyState === 1)!;
      s.__down = true;
      s.onerror?.(new Event('error'));
    });
    const made = executionRecord({ action: 'core.noop', status: 'succeeded', minutesAgo: 0 });
    await h.running.services.store.executions.insert(made);
    reads.length = 0;
    // ... and opens again.
    await page.evaluate(() => {
      const s = (globalThis as unknown as PageGlobals).__streams.find((x) => x.__down)!;
      s.__down = false;
      s.onopen?.(new Event('open'));
    });
    await page.getByText(`${N + 1} executions`, { exact: true }).waitFor();
    await settled(page);
    // Same place, same rows (one further down: the new run is on top).
    expect(await list.evaluate((el) => el.scrollTop)).toBe(top);
    await page.locator(`[data-execution-id="${id}"]`).waitFor();
    expect(await page.locator('#vrow-151 [data-execution-id]').getAttribute('data-execution-id')).toBe(id);
    expect(reads).toEqual([0, 100]);
    await list.evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    await page.locator(`#vrow-0 [data-execution-id="${made.id}"]`).waitFor();
  });
});
