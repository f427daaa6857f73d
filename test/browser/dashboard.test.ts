import { beforeAll, expect, it } from 'vitest';
import { newId } from '../../src/ids.js';
import { executionRecord, seedEnforcements, type SeedExecution } from '../support/history.js';
import { describeBrowser } from './harness.js';

/** Issue 24: the dashboard shows what the stats API answers, and each figure opens History so filtered. */
describeBrowser('dashboard in headless chromium', (h) => {
  let token: string;

  const seeded: SeedExecution[] = [
    { action: 'demo.deploy', status: 'succeeded', minutesAgo: 3, elapsed: 12 },
    { action: 'demo.deploy', status: 'succeeded', minutesAgo: 50, elapsed: 14 },
    { action: 'demo.deploy', status: 'failed', minutesAgo: 95, elapsed: 8, rule: 'demo.on_push' },
    { action: 'demo.backup', status: 'succeeded', minutesAgo: 130, elapsed: 95 },
    { action: 'demo.backup', status: 'timeout', minutesAgo: 400, elapsed: 120 },
    { action: 'demo.check', status: 'succeeded', minutesAgo: 700, elapsed: 1, rule: 'demo.on_push' },
    { action: 'demo.check', status: 'canceled', minutesAgo: 1000, elapsed: 2 },
    { action: 'demo.check', status: 'succeeded', minutesAgo: 2 * 24 * 60, elapsed: 1 },
    { action: 'demo.check', status: 'failed', minutesAgo: 10 * 24 * 60, elapsed: 1 },
  ];

  beforeAll(async () => {
    token = await h.token();
    const store = h.running.services.store;
    await store.executions.insertMany(seeded.map((s) => executionRecord(s)));
    await seedEnforcements(store, 'demo.on_push', 4);
    await seedEnforcements(store, 'demo.nightly', 2);
    await store.inquiries.insertMany([
      { id: newId(), status: 'pending' },
      { id: newId(), status: 'pending' },
      { id: newId(), status: 'pending' },
    ]);
    await store.liveExecutions.insertMany([
      { id: newId(), status: 'scheduled', since: new Date().toISOString() },
    ]);
  }, 120_000);

  const api = async (path: string) => {
    const res = await fetch(h.running.url + path, { headers: { 'X-Auth-Token': token } });
    expect(res.status, path).toBe(200);
    return (await res.json()) as any;
  };
  const text = (testid: string) => h.b.page.getByTestId(testid).textContent();
  const historyTotal = () => h.b.page.getByText(/^[\d,]+ executions?$/).textContent();
  const executions = (n: number) => `${n} execution${n === 1 ? '' : 's'}`;

  it('is the home page, and its figures equal the stats API for a seeded history', async () => {
    await h.signedIn();
    const { page } = h.b;
    await page.goto('/');
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor();
    const ex = await api('/api/v1/stats/executions?range=24h');
    const actions = await api('/api/v1/stats/actions?range=24h');
    const rules = await api('/api/v1/stats/rules?range=24h');
    const queue = await api('/api/v1/stats/queue');
    expect(ex.total).toBe(7);
    await expect.poll(() => text('figure-executions')).toBe(String(ex.total));
    expect(await text('figure-failure-rate')).toBe(`${(ex.failure_rate * 100).toFixed(1)} %`);
    expect(await text('figure-queue')).toBe(String(queue.depth));
    expect(await text('figure-inquiries')).toBe('3');
    // one bar per hour, adding up to the total; each status in the legend with its count
    const bars = page.locator('[data-testid="executions-chart"] g[data-bucket]');
    expect(await bars.count()).toBe(24);
    const counts = await bars.evaluateAll((gs) => gs.map((g) => Number(g.getAttribute('data-count'))));
    expect(counts.reduce((a, c) => a + c, 0)).toBe(ex.total);
    for (const [status, n] of Object.entries(ex.by_status as Record<string, number>))
      expect(await page.getByTestId(`status-${status}`).textContent()).toBe(`${status} ${n}`);
    const rows = (name: string) =>
      page
        .getByRole('table', { name })
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(await rows('Most frequent actions')).toEqual(
      actions.most_frequent.map((a: { action: string; count: number; failed: number }) => [
        a.action,
        String(a.count),
        String(a.failed),
      ]),
    );
    expect((await rows('Slowest actions')).map((r) => r[0])).toEqual(
      actions.slowest.map((a: { action: string }) => a.action),
    );
    expect(await rows('Rules that fired most')).toEqual([
      ['demo.on_push', '4'],
      ['demo.nightly', '2'],
    ]);
    expect(rules.most_fired[0]).toMatchObject({ rule: 'demo.on_push', count: 4 });
    // the header says updates are live (h.b.screenshot waits for it too, for every picture)
    await page.locator('.stream-open').waitFor();
    await h.b.screenshot('dashboard');
    await h.b.assertClean();
  });

  it('opens History filtered as each figure counts', async () => {
    await h.signedIn();
    const { page } = h.b;
    const ex = await api('/api/v1/stats/executions?range=24h');
    await page.goto('/#/dashboard');
    await page.getByTestId('figure-executions').click();
    await page.waitForURL(/#\/history\?/);
    await expect.poll(historyTotal).toBe(`${ex.total} executions`);

    await page.goto('/#/dashboard');
    await page.getByTestId('figure-failure-rate').click();
    await expect.poll(historyTotal).toBe(`${ex.failed} executions`);
    expect(await page.getByLabel('Status').inputValue()).toBe('failed,timeout,abandoned');

    await page.goto('/#/dashboard');
    await page
      .getByRole('table', { name: 'Most frequent actions' })
      .getByRole('link', { name: 'demo.deploy' })
      .click();
    await expect.poll(historyTotal).toBe('3 executions');
    await page.locator('[data-execution-id]').first().waitFor();
    expect(await page.locator('.exec-row .c-action').allTextContents()).toEqual(Array(3).fill('demo.deploy'));

    await page.goto('/#/dashboard');
    await page
      .getByRole('table', { name: 'Rules that fired most' })
      .getByRole('link', { name: 'demo.on_push' })
      .click();
    await expect.poll(historyTotal).toBe('2 executions');

    // a bar segment: that hour, that status
    await page.goto('/#/dashboard');
    const segment = page.locator('[data-testid="executions-chart"] a').first();
    const label = (await segment.getAttribute('aria-label')) ?? '';
    await segment.click();
    await expect.poll(historyTotal).toBe(executions(Number(label.split(' ')[0])));
    await h.b.assertClean();
  });

  it('gives each end status its own colour, readable on the panel in both themes', async () => {
    await h.signedIn();
    const { page } = h.b;
    await page.goto('/#/dashboard');
    await page.getByTestId('status-timeout').waitFor();
    const ends = ['succeeded', 'failed', 'timeout', 'canceled'];
    const colours = () =>
      page.evaluate((statuses) => {
        const doc = (globalThis as unknown as { document: any }).document;
        const css = (el: unknown, prop: string) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): any }).getComputedStyle(el)[
            prop
          ] as string;
        const panel = css(doc.querySelector('.card'), 'backgroundColor');
        return statuses.map((s) => {
          const swatch = doc.querySelector(`[data-testid="status-${s}"] .swatch`);
          const badge = doc.createElement('span');
          badge.className = `status status-${s}`;
          doc.body.append(badge);
          const badgeColour = css(badge, 'color');
          badge.remove();
          return { status: s, swatch: css(swatch, 'color'), badge: badgeColour, panel };
        });
      }, ends);
    const luminance = (rgb: string) => {
      const [r, g, b] = rgb
        .match(/\d+/g)!
        .slice(0, 3)
        .map((v) => Number(v) / 255)
        .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const contrast = (a: string, b: string) => {
      const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
      return (hi + 0.05) / (lo + 0.05);
    };
    for (const theme of ['light', 'dark']) {
      if (theme === 'dark') {
        await page.getByRole('button', { name: 'Switch to dark theme' }).click();
        await expect
          .poll(() =>
            page.evaluate(
              () =>
                (globalThis as unknown as { document: any }).document.documentElement.dataset.theme as string,
            ),
          )
          .toBe('dark');
      }
      const seen = await colours();
      // the chart and legend use the badge's colour, and no two end states share one
      for (const c of seen) expect(c.swatch, `${theme} ${c.status}`).toBe(c.badge);
      expect(new Set(seen.map((c) => c.swatch)).size, theme).toBe(ends.length);
      // WCAG AA for the badge text (the status word in its own colour)
      for (const c of seen)
        expect(contrast(c.badge, c.panel), `${theme} ${c.status} on ${c.panel}`).toBeGreaterThanOrEqual(4.5);
      if (theme === 'dark') await h.b.screenshot('dashboard-dark');
    }
    await page.getByRole('button', { name: 'Switch to light theme' }).click();
    await h.b.assertClean();
  });

  it('switches to 7 days per hour and 30 days per day', async () => {
    await h.signedIn();
    const { page } = h.b;
    await page.goto('/#/dashboard');
    await page.getByRole('radio', { name: '7 d' }).click();
    const week = await api('/api/v1/stats/executions?range=7d');
    await expect.poll(() => text('figure-executions')).toBe(String(week.total));
    // the 10-day-old execution is only in 30 d
    expect(week.total).toBe(8);
    expect(await page.locator('[data-testid="executions-chart"] g[data-bucket]').count()).toBe(168);
    await page.getByRole('radio', { name: '30 d' }).click();
    await expect.poll(() => text('figure-executions')).toBe('9');
    expect(await page.locator('[data-testid="executions-chart"] g[data-bucket]').count()).toBe(30);
    await h.b.assertClean();
  });

  it('lists a realistic history: statuses, users, rules, a workflow without its tasks, the count in words', async () => {
    await h.signedIn();
    const { page } = h.b;
    const store = h.running.services.store;
    const workflow = executionRecord({
      action: 'examples.orquesta-deploy',
      status: 'running',
      minutesAgo: 1,
      user: 'olga',
    });
    const more: SeedExecution[] = [
      { action: 'core.local', status: 'running', minutesAgo: 0.5, user: 'stanley' },
      { action: 'core.http', status: 'succeeded', minutesAgo: 6, elapsed: 0.4, rule: 'demo.on_push' },
      {
        action: 'linux.check_loadavg',
        status: 'succeeded',
        minutesAgo: 15,
        elapsed: 0.2,
        rule: 'demo.nightly',
      },
      { action: 'core.local', status: 'failed', minutesAgo: 22, elapsed: 3.1, user: 'olga' },
      // the workflow's tasks: History lists top-level executions, the detail page shows these
      { action: 'core.local', status: 'succeeded', minutesAgo: 1, elapsed: 2, parent: workflow.id },
      { action: 'core.http', status: 'running', minutesAgo: 0.8, parent: workflow.id },
    ];
    await store.executions.insertMany([workflow, ...more.map((s) => executionRecord(s))]);
    const topLevel = seeded.length + 1 + more.filter((s) => !s.parent).length;

    await page.goto('/#/history');
    await expect.poll(historyTotal).toBe(executions(topLevel));
    await page.locator(`[data-execution-id="${workflow.id}"]`).waitFor();
    expect(await page.locator(`[data-execution-id="${workflow.id}"] .c-user`).textContent()).toBe('olga');
    // one execution reads as one, not "1 executions"
    await page.getByLabel('Action').fill('linux.check_loadavg');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(historyTotal).toBe('1 execution');
    // a short list is a short box: no tall empty table under one row
    const box = await page.getByRole('listbox', { name: 'Executions' }).boundingBox();
    expect(box!.height).toBeLessThan(200);
    await page.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(historyTotal).toBe(executions(topLevel));
    await page
      .locator('[data-execution-id]')
      .nth(topLevel - 1)
      .waitFor();
    await h.b.screenshot('history-seeded');
    await h.b.assertClean();
  });
});
