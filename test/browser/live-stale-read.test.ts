/**
 * A live page's read answered after a newer live update must not undo it. The race of 75e27d1 (seen
 * once in a clean-clone CI): an execution's last update came over the live stream while the
 * page's first read of it was in flight; the read's older answer then overwrote the update and the
 * page stayed "running" for good. Here the race is made to happen every time, on each live page
 * that reads what the stream updates: the page's reads get the server's answer while the run is
 * still running, and those answers are held until the run has ended and the page has received its
 * end over the stream; then the page gets them. The run is a core.local that waits for a file, so
 * it ends when the test says, not after a guessed time.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { APIResponse, Locator, Page, Request, Route } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempDir } from '../support/servers.js';
import { waitFor } from '../support/wait.js';
import { describeBrowser } from './harness.js';

/** What the tests use of a page's globals (the project's types have no DOM). */
interface PageGlobals {
  fetch: typeof fetch;
  location: { href: string; hash: string };
  requestAnimationFrame(fn: () => void): number;
  EventSource: new (url: string, init?: unknown) => EventSourceLike;
  __readPath?: string;
  __reads: { started: number; done: number };
  __updates: string[];
}
interface EventSourceLike {
  addEventListener(name: string, fn: (e: { data: string }) => void): void;
}

/**
 * Counts, in the page, the reads of `__readPath` it started and the ones it is done with (their
 * body read by the page's code, or the fetch failed). The count moves in a timer set when the
 * body is read: it runs after the page's own code has handled that answer.
 */
function countReads(): void {
  const w = globalThis as unknown as PageGlobals;
  w.__reads = { started: 0, done: 0 };
  const fetch0 = w.fetch.bind(globalThis);
  const done = () => setTimeout(() => (w.__reads.done += 1), 0);
  w.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input), w.location.href);
    const counted = (init?.method ?? 'GET') === 'GET' && url.pathname === w.__readPath;
    const answer = fetch0(input, init);
    if (!counted) return answer;
    w.__reads.started += 1;
    return answer.then(
      (res) => {
        const text = res.text.bind(res);
        Object.defineProperty(res, 'text', { value: () => text().finally(done) });
        return res;
      },
      (err: unknown) => {
        done();
        throw err;
      },
    );
  };
}

/**
 * Records, in the page, each execution update its live stream delivered (`<id> <status>`, or
 * `<id> created` for a new one), in a timer set when it arrives: after the page's own handlers of
 * that event have run.
 */
function recordUpdates(): void {
  const w = globalThis as unknown as PageGlobals;
  w.__updates = [];
  w.EventSource = class extends w.EventSource {
    constructor(url: string, init?: unknown) {
      super(url, init);
      this.addEventListener('st2.execution__update', (e) => {
        const { id, status } = JSON.parse(e.data) as { id: string; status: string };
        setTimeout(() => w.__updates.push(`${id} ${status}`), 0);
      });
      this.addEventListener('st2.execution__create', (e) => {
        const { id } = JSON.parse(e.data) as { id: string };
        setTimeout(() => w.__updates.push(`${id} created`), 0);
      });
    }
  };
}

/** A status as the page shows it: a graph node's data-status, else the badge's text. */
const statusOf = async (shown: Locator) =>
  (await shown.getAttribute('data-status')) ?? (await shown.textContent());

/** Lets the page render what its code set before now (React commits it in a task queued then). */
const rendered = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<void>((r) =>
        (globalThis as unknown as PageGlobals).requestAnimationFrame(() => setTimeout(r, 0)),
      ),
  );

const RACE_PACKS = { 'packs.paths': [path.join(import.meta.dirname, 'fixtures', 'race-packs')] };

describeBrowser('live pages and their late reads in headless chromium', RACE_PACKS, (h) => {
  const files = tempDir('squall-web-race-');

  beforeAll(async () => {
    await h.b.page.addInitScript(countReads);
    await h.b.page.addInitScript(recordUpdates);
  }, 120_000);

  afterAll(async () => {
    await h?.stop();
    files.cleanup();
  });

  /** A core.local run that is running until `finish()`: it waits for a file the test writes. */
  async function controlledRun(name: string, workflow = false) {
    const flag = path.join(files.dir, name);
    const started = await h.api(
      'POST',
      '/api/v1/executions',
      workflow
        ? { action: 'uirace.wait', parameters: { flag } }
        : {
            action: 'core.local',
            parameters: {
              cmd: `while [ ! -e '${flag}' ]; do sleep 0.05; done; echo finished`,
              timeout: 120,
            },
          },
    );
    expect(started.status, started.text).toBe(201);
    const id = started.body.id as string;
    await waitFor(
      async () => (await h.api('GET', `/api/v1/executions/${id}`)).body.status === 'running',
      `${id} to be running`,
      30_000,
    );
    return { id, finish: () => writeFileSync(flag, '') };
  }

  /**
   * Holds the page's reads matching `matches` until `release()`: the server answers each at once
   * (`first` resolves with the first answer), the page gets them when released. Every read, not
   * only the first: a development build of the UI (vitest's NODE_ENV) mounts each page twice and
   * drops the first mount's read.
   */
  async function holdReads(page: Page, matches: (req: Request) => boolean) {
    let answered!: (r: APIResponse) => void;
    const first = new Promise<APIResponse>((r) => (answered = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let holding = true;
    const held: Promise<void>[] = [];
    const handler = async (route: Route) => {
      if (!holding || !matches(route.request())) return route.fallback();
      const answer = (async () => {
        const response = await route.fetch();
        answered(response);
        await released;
        try {
          await route.fulfill({ response });
        } catch (err) {
          // The page may be done with the request before it is answered (a page that re-reads
          // aborts the read it no longer wants, or a navigation does): then playwright has
          // handled the route already, and what the page shows is the point of the test.
          if (!/Route is already handled/.test((err as Error).message)) throw err;
        }
      })();
      held.push(answer);
      return answer;
    };
    await page.route('**/api/v1/**', handler);
    return {
      first,
      async release() {
        holding = false;
        release();
        await Promise.all(held);
        await page.unroute('**/api/v1/**', handler);
      },
    };
  }

  /**
   * Opens `hash` on a new document (the counters are installed in each, as in a link opened in a
   * new tab) with the page's reads of `readPath` held (holdReads), once the stream is open.
   */
  async function openHoldingReads(readPath: string, hash: string) {
    await h.signedIn();
    const { page } = h.b;
    const reads = await holdReads(
      page,
      (req) => req.method() === 'GET' && new URL(req.url()).pathname === readPath,
    );
    await page.goto('/');
    await page.evaluate((p) => ((globalThis as unknown as PageGlobals).__readPath = p), readPath);
    await page.evaluate((to) => ((globalThis as unknown as PageGlobals).location.hash = to), hash);
    await reads.first;
    await page.locator('.stream-open').waitFor({ timeout: 15_000 });
    return reads;
  }

  /** Until the page's stream has delivered `event` (`<id> <status>`, `<id> created`). */
  const streamed = (event: string) =>
    h.b.page.waitForFunction((e) => (globalThis as unknown as PageGlobals).__updates.includes(e), event, {
      timeout: 30_000,
    });

  /**
   * Until the page has handled every answer, and rendered what they made it do (a read more). A
   * read asked for within REREAD_GAP_MS (300 ms, src/web/src/ui.tsx) of the last one's start waits
   * out the rest of that time: each round waits that long before it sees whether one started.
   */
  async function answered(page: Page): Promise<void> {
    for (let settled = -1; ;) {
      await page.waitForFunction(() => {
        const r = (globalThis as unknown as PageGlobals).__reads;
        return r.started > 0 && r.done === r.started;
      });
      await rendered(page);
      await new Promise((r) => setTimeout(r, 350));
      const started = await page.evaluate(() => (globalThis as unknown as PageGlobals).__reads.started);
      if (started === settled) return;
      settled = started;
    }
  }

  /**
   * Opens `hash` with the page's reads of `readPath` held while a run ends; once the page has
   * received the end over its stream, it gets those reads' answers (the run as it was: running).
   * Returns the page's status of the run.
   */
  async function lateReads(opts: {
    name: string;
    readPath: (id: string) => string;
    hash: (id: string) => string;
    status: (page: Page, id: string) => Locator;
    workflow?: boolean;
  }): Promise<string | null> {
    const run = await controlledRun(opts.name, opts.workflow);
    const reads = await openHoldingReads(opts.readPath(run.id), opts.hash(run.id));
    try {
      expect(await (await reads.first).text()).toContain('"running"');
      run.finish();
      await streamed(`${run.id} succeeded`);
      await reads.release();
      await answered(h.b.page);
      const shown = await statusOf(opts.status(h.b.page, run.id));
      await h.b.assertClean();
      return shown;
    } finally {
      await reads.release();
    }
  }

  const pages: (Parameters<typeof lateReads>[0] & { title: string })[] = [
    {
      title: "an execution's page shows the end of a run that ended while the page was reading it",
      name: 'detail',
      readPath: (id) => `/api/v1/executions/${id}`,
      hash: (id) => `#/history/${id}`,
      status: (page) => page.getByRole('heading', { level: 1 }).locator('.status'),
    },
    {
      title: 'the history list shows the end of a run that ended while the list was being read',
      name: 'history',
      readPath: () => '/api/v1/executions',
      hash: () => '#/history',
      status: (page, id) => page.locator(`a.exec-row[data-execution-id="${id}"] .status`),
    },
    {
      title: 'a trace shows the end of a run that ended while the trace was being read',
      name: 'trace',
      readPath: () => '/api/v1/traces/views/tree',
      hash: (id) => `#/trace/execution/${id}`,
      status: (page, id) => page.locator(`li[data-id="${id}"] > .trace-node > .status`),
    },
  ];
  for (const { title, ...live } of pages)
    it(title, async () => expect(await lateReads(live)).toBe('succeeded'), 90_000);

  it('the history list keeps a run the stream added while the list was being read', async () => {
    const reads = await openHoldingReads('/api/v1/executions', '#/history');
    try {
      const started = await h.api('POST', '/api/v1/executions', {
        action: 'core.local',
        parameters: { cmd: 'true' },
      });
      expect(started.status, started.text).toBe(201);
      const id = started.body.id as string;
      await streamed(`${id} created`);
      // The list's read was answered before the run existed.
      expect(await (await reads.first).text()).not.toContain(id);
      await reads.release();
      await answered(h.b.page);
      // It is on top, above the read's rows, each once (not in place of the newest of them).
      const listed = await Promise.all(
        (await h.b.page.locator('a.exec-row').all()).map((row) => row.getAttribute('data-execution-id')),
      );
      const all = await h.api('GET', '/api/v1/executions?parent=null&include_attributes=id');
      expect(listed).toEqual((all.body as { id: string }[]).map((e) => e.id));
      expect(listed[0]).toBe(id);
      await h.b.assertClean();
    } finally {
      await reads.release();
    }
  }, 90_000);

  /** Holds the page's live stream request until `open()`, which waits for the stream to be open. */
  async function holdStream(page: Page) {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const streams: Promise<void>[] = [];
    const hold = (route: Route) => {
      const held = released.then(() => route.continue());
      streams.push(held);
      return held;
    };
    const isStream = (url: URL) => url.pathname === '/stream/v1/stream';
    await page.route(isStream, hold);
    let opened: Promise<void> | undefined;
    return {
      open: () =>
        (opened ??= (async () => {
          release();
          await page.locator('.stream-open').waitFor({ timeout: 15_000 });
          await Promise.all(streams);
          await page.unroute(isStream, hold);
        })()),
    };
  }

  /**
   * Opens `hash` on a new document whose live stream connects only after `run` has ended (its
   * request is held until then): the page read the run while it ran, and its end was published
   * before the stream was there to bring it. Returns the page's status of the run, once the
   * stream is open and the page has handled the answers of the reads it made then.
   */
  async function streamOpensLate(opts: Parameters<typeof lateReads>[0]): Promise<string | null> {
    const run = await controlledRun(`${opts.name}-late-stream`, opts.workflow);
    await h.signedIn();
    const { page } = h.b;
    const stream = await holdStream(page);
    try {
      await page.goto('/');
      const readPath = opts.readPath(run.id);
      await page.evaluate((p) => ((globalThis as unknown as PageGlobals).__readPath = p), readPath);
      await page.evaluate(
        (to) => ((globalThis as unknown as PageGlobals).location.hash = to),
        opts.hash(run.id),
      );
      await answered(page);
      expect(await statusOf(opts.status(page, run.id))).toBe('running');

      const end = new Promise<void>((resolve) => {
        const off = h.running.services.bus.subscribe('st2.execution__update', (event) => {
          const e = event.payload as { id: string; status: string };
          if (e.id !== run.id || e.status !== 'succeeded') return;
          off();
          resolve();
        });
      });
      run.finish();
      await end;

      await stream.open();
      await answered(page);
      const shown = await statusOf(opts.status(page, run.id));
      await h.b.assertClean();
      return shown;
    } finally {
      await stream.open();
    }
  }

  // Its update during a read is handled (read again, 200 ms after the last event): only its late
  // stream is at stake.
  // A workflow's graph reads again after updates during its read (200 ms after the last one, a
  // timer the test cannot see ending): only the stream's late opening is tried on it.
  const graph: (typeof pages)[number] = {
    title: "a workflow's graph shows the end of a task that ended before the page's live stream opened",
    name: 'graph',
    readPath: () => '/api/v1/workflows/graph',
    hash: (id) => `#/history/${id}`,
    status: (page) => page.locator('[data-task="wait"]'),
    workflow: true,
  };
  for (const { title, ...live } of [...pages, graph])
    it(
      title.replace(/while .*/, "before the page's live stream opened"),
      async () => expect(await streamOpensLate(live)).toBe('succeeded'),
      90_000,
    );

  it("the inquiries list shows an inquiry that came before the page's live stream opened", async () => {
    await h.signedIn();
    const { page } = h.b;
    const stream = await holdStream(page);
    try {
      await page.goto('/');
      await page.evaluate(
        (p) => ((globalThis as unknown as PageGlobals).__readPath = p),
        '/api/v1/inquiries',
      );
      await page.evaluate(() => ((globalThis as unknown as PageGlobals).location.hash = '#/inquiries'));
      await answered(page);
      await page.getByText('No pending inquiries.').waitFor();

      const asked = new Promise<string>((resolve) => {
        const off = h.running.services.bus.subscribe('st2.execution__update', (event) => {
          const e = event.payload as { id: string; status: string; runner?: { name?: string } };
          if (e.status !== 'pending' || e.runner?.name !== 'inquirer') return;
          off();
          resolve(e.id);
        });
      });
      const started = await h.api('POST', '/api/v1/executions', { action: 'uirace.ask', parameters: {} });
      expect(started.status, started.text).toBe(201);
      const inquiry = await asked;

      await stream.open();
      await answered(page);
      expect(await page.getByRole('link', { name: inquiry }).count()).toBe(1);
      await h.b.assertClean();
    } finally {
      await stream.open();
    }
  }, 90_000);
});
