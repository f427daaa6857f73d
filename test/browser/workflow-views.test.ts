/**
 * The pictures of issue #24 in headless chromium: a workflow's graph (on its action and on a run,
 * with live task statuses, the routes taken and inspection errors on their tasks) and a run's
 * timeline (with-items lanes, a nested sub-workflow) and a webhook's trace down to the chat post
 * its execution's notification made. Each test ends with no failed request and no
 * console error.
 */
import path from 'node:path';
// The terminal chat adapter (adapters/shell), for the ops route's posts.
import '../../adapters/index.js';
import type { Locator, Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { describeBrowser } from './harness.js';
import { isCompleted } from '../../src/executions/index.js';

const FIXTURE_PACKS = path.join(import.meta.dirname, 'fixtures', 'packs');

const CONFIG = {
  'packs.paths': [FIXTURE_PACKS],
  'chatops.routes': { ops: { adapter: 'shell', channel: 'ops' } },
};

describeBrowser('workflow graph, run timeline and trace in headless chromium', CONFIG, (h) => {
  const api = (method: string, p: string, body?: unknown) => h.api(method, p, body);

  /** Starts `action`; its execution's id. */
  const start = async (action: string, parameters: Record<string, unknown>) => {
    const started = await api('POST', '/api/v1/executions', { action, parameters });
    expect(started.status, started.text).toBe(201);
    return started.body.id as string;
  };

  /** Runs `action` to success; its execution's id. */
  const run = async (action: string, parameters: Record<string, unknown>) => {
    const id = await start(action, parameters);
    const done = await waitFor(
      async () => {
        const e = (await api('GET', `/api/v1/executions/${id}`)).body as { status: string };
        return isCompleted(e.status) ? e : null;
      },
      `${action} to finish`,
      60_000,
    );
    expect(done.status).toBe('succeeded');
    return id;
  };

  /** The browser's page, signed in. */
  const signedInPage = async () => {
    await h.signedIn();
    return h.b.page;
  };

  /** Each node of a workflow graph as `task:status`, in the graph's order. */
  const nodeStatuses = (graph: Locator) =>
    graph
      .locator('.wf-node')
      .evaluateAll((els) =>
        els.map((e) => `${e.getAttribute('data-task')}:${e.getAttribute('data-status')}`),
      );

  /** The edges a workflow graph marks as taken. */
  const takenEdges = (graph: Locator) =>
    graph.locator('[data-taken="true"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-edge')));

  /** Scrolls the graph's heading to the top: the graph and the timeline below it fill a screenshot. */
  const scrollToGraph = (page: Page) =>
    page
      .getByRole('heading', { name: 'Workflow graph' })
      .evaluate((el) => (el as unknown as { scrollIntoView(): void }).scrollIntoView());

  it('draws examples.orquesta-sequential: 3 tasks succeeded, the routes taken, a click opens the task', async () => {
    const page = await signedInPage();

    // the action's page: the definition, nothing run yet
    await page.goto('/#/actions/examples.orquesta-sequential');
    const definition = page.getByRole('img', { name: /^Workflow graph/ });
    await definition.waitFor();
    expect(await definition.locator('.wf-node').count()).toBe(3);
    expect(await definition.locator('[data-edge="task1->task2"] text').textContent()).toBe(
      'succeeded · publish greeting',
    );
    expect(await definition.locator('.wf-node[data-status]').count()).toBe(0);

    const id = await run('examples.orquesta-sequential', { name: 'Squall' });
    await page.goto(`/#/history/${id}`);
    const graph = page.getByRole('img', { name: 'Workflow graph: 3 tasks' });
    await graph.waitFor();
    expect(await graph.locator('.wf-node').count()).toBe(3);
    await expect
      .poll(() => nodeStatuses(graph))
      .toEqual(['task1:succeeded', 'task2:succeeded', 'task3:succeeded']);
    expect(await takenEdges(graph)).toEqual(['task1->task2', 'task2->task3']);
    // the graph and the timeline below it fill the screenshot
    await scrollToGraph(page);
    await h.b.screenshot('workflow-graph');

    // a node opens its task's execution
    const children = (await api('GET', `/api/v1/executions/${id}/children?depth=1`)).body as Array<{
      id: string;
      context: { orquesta: { task_name: string } };
    }>;
    const task2 = children.find((c) => c.context.orquesta.task_name === 'task2')!;
    await graph.getByRole('link', { name: 'Task task2, succeeded' }).click();
    await page.waitForURL(new RegExp(`#/history/${task2.id}$`));
    await page.getByRole('heading', { name: /core\.echo/ }).waitFor();
    await h.b.assertClean();
  }, 120_000);

  it('follows a running workflow live: the paused task, then the answer, the next task and its route', async () => {
    const page = await signedInPage();
    const id = await start('uitest.deploy-approval', { version: '9.9.9' });
    await page.goto(`/#/history/${id}`);
    // a mark in this document: it is gone if the page reloads
    await page.evaluate(() => Object.assign(globalThis, { __noReload: true }));
    const graph = page.getByRole('img', { name: 'Workflow graph: 2 tasks' });
    await graph.locator('[data-task="ask"][data-status="pending"]').waitFor({ timeout: 30_000 });
    expect(await graph.locator('[data-task="report"]').getAttribute('data-status')).toBeNull();
    expect(await graph.locator('[data-taken="true"]').count()).toBe(0);

    const ask = await waitFor(
      async () =>
        (await h.running.services.store.executions.findOne({ parent: id, 'action.ref': 'core.ask' })) ?? null,
      'the ask task',
      30_000,
    );
    const answered = await api('PUT', `/api/v1/inquiries/${ask.id}`, {
      id: ask.id,
      response: { approved: true, reason: 'live graph', hosts: 1 },
    });
    expect(answered.status, answered.text).toBe(200);
    await graph.locator('[data-task="report"][data-status="succeeded"]').waitFor({ timeout: 30_000 });
    expect(await graph.locator('[data-task="ask"]').getAttribute('data-status')).toBe('succeeded');
    expect(await graph.locator('[data-taken="true"]').getAttribute('data-edge')).toBe('ask->report');
    const timeline = page.getByRole('figure', { name: 'Run timeline' });
    await timeline.locator('[data-lane="report"] .gantt-bar[data-status="succeeded"]').waitFor();
    expect(await page.evaluate(() => (globalThis as { __noReload?: boolean }).__noReload)).toBe(true);
    await h.b.assertClean();
  }, 90_000);

  it('draws an ActionChain run: on-success and on-failure edges, the path it took', async () => {
    const page = await signedInPage();
    const id = await run('examples.echochain', {});
    await page.goto(`/#/history/${id}`);
    const graph = page.getByRole('img', { name: 'Workflow graph: 4 tasks' });
    await graph.locator('[data-task="c3"][data-status="succeeded"]').waitFor();
    expect(await nodeStatuses(graph)).toEqual(['c1:succeeded', 'c2:succeeded', 'c3:succeeded', 'c4:null']);
    expect(await graph.locator('[data-edge="c1->c4"] text').textContent()).toBe('on-failure');
    expect(await takenEdges(graph)).toEqual(['c1->c2', 'c2->c3']);
    await h.b.assertClean();
  }, 90_000);

  it('shows a retried task as its attempts on one lane, the failed ones first', async () => {
    const page = await signedInPage();
    const id = await start('uitest.flaky', {});
    await page.goto(`/#/history/${id}`);
    await page
      .getByRole('heading', { name: /uitest\.flaky/ })
      .locator('.status-failed')
      .waitFor({ timeout: 60_000 });
    const lane = page.getByRole('figure', { name: 'Run timeline' }).locator('[data-lane="try_it"]');
    await expect.poll(() => lane.locator('.gantt-bar').count()).toBe(3);
    expect(await lane.locator('.gantt-label').textContent()).toContain('3 attempts');
    const titles = await lane
      .locator('.gantt-bar')
      .evaluateAll((els) => els.map((e) => e.getAttribute('title')!.split('\n')[0]));
    expect(titles).toEqual(['try_it · attempt 1 of 3', 'try_it · attempt 2 of 3', 'try_it · attempt 3 of 3']);
    expect(await lane.locator('.gantt-bar.gantt-retry').count()).toBe(2);
    const graph = page.getByRole('img', { name: 'Workflow graph: 1 task' });
    // The graph reloads 200 ms after the workflow's last event, which may land after the heading's.
    await expect.poll(() => graph.locator('[data-task="try_it"]').getAttribute('data-status')).toBe('failed');
    expect(await graph.locator('[data-task="try_it"] .wf-node-marks').textContent()).toBe('retry 2');
    await h.b.assertClean();
  }, 90_000);

  it('draws a with-items task of 30 items as one lane per concurrency slot', async () => {
    const page = await signedInPage();
    const id = await run('uitest.spread', {});
    await page.goto(`/#/history/${id}`);
    const group = page
      .getByRole('figure', { name: 'Run timeline' })
      .getByRole('group', { name: 'spread: 30 items' });
    await group.waitFor();
    const lanes = group.locator('[data-lane^="spread/slot"]');
    const count = await lanes.count();
    // never more lanes than the concurrency: each slot runs one item at a time
    expect(count).toBeGreaterThanOrEqual(1);
    expect(count).toBeLessThanOrEqual(4);
    expect(await group.locator('.gantt-bar[data-status="succeeded"]').count()).toBe(30);
    expect(await group.locator('.gantt-bar.gantt-retry').count()).toBe(0);
    await h.b.assertClean();
  }, 120_000);

  it("puts squall workflow inspect's errors on the tasks they are about", async () => {
    const page = await signedInPage();
    await page.goto('/#/actions/uitest.broken-flow');
    const graph = page.getByRole('img', { name: /^Workflow graph/ });
    await graph.waitFor();
    const errorsOf = (task: string) =>
      graph.locator(`[data-task="${task}"] .wf-node-error`).getAttribute('data-errors');
    // the undefined next task is the fetch transition's mistake; the unknown action and the
    // unassigned variable are publish_it's
    expect(await errorsOf('fetch')).toBe('1');
    expect(await errorsOf('publish_it')).toBe('2');
    const list = page.getByRole('list', { name: 'Task errors' });
    expect(await list.textContent()).toContain('fetch: semantic The task "missing_task" is not defined.');
    expect(await list.textContent()).toContain(
      'publish_it: content The action "uitest.no_such_action" is not registered in the database.',
    );
    expect(await list.textContent()).toContain('Variable "undefined_var" is referenced before assignment.');
    // the same errors as the inspect endpoint answers for the file
    const graphApi = await api('GET', '/api/v1/workflows/graph?action=uitest.broken-flow');
    expect(graphApi.status).toBe(200);
    await graph.scrollIntoViewIfNeeded();
    await h.b.screenshot('workflow-inspect');
    await h.b.assertClean();
  }, 60_000);

  it('shows a with-items fan-out one lane per item, and the nested sub-workflow when expanded', async () => {
    const page = await signedInPage();
    const id = await run('uitest.fan-out', {});
    await page.goto(`/#/history/${id}`);
    const timeline = page.getByRole('figure', { name: 'Run timeline' });
    await timeline.waitFor();
    const deploy = timeline.getByRole('group', { name: 'deploy: 4 items' });
    await deploy.waitFor();
    for (let i = 0; i < 4; i++) {
      const lane = deploy.locator(`[data-lane="deploy[${i}]"]`);
      expect(await lane.locator('.gantt-lane-label').textContent()).toBe(`item ${i}`);
      expect(await lane.locator('.gantt-bar').getAttribute('data-status')).toBe('succeeded');
      expect(await lane.locator('.gantt-bar').getAttribute('title')).toMatch(
        new RegExp(`^deploy item ${i}\\nstatus: succeeded\\naction: core\\.local`),
      );
    }
    // the time axis has ticks from 0
    expect(await timeline.locator('.gantt-tick').first().textContent()).toBe('0');
    expect(await timeline.locator('.gantt-tick').count()).toBeGreaterThan(2);

    // the graph says what the with-items task does: the run's items and the spec's concurrency
    // (not a bare "×2" a user reads as the item count)
    const graph = page.getByRole('img', { name: 'Workflow graph: 4 tasks' });
    expect(await graph.locator('[data-task="deploy"] .wf-node-marks').textContent()).toBe(
      'with-items · 4 items, 2 at a time',
    );
    // a long action ref is shown whole (the node grows), never cut mid-word
    expect(await graph.locator('[data-task="report"] .wf-node-action').textContent()).toBe(
      'examples.orquesta-sequential',
    );

    // the report task is a workflow: expanding it shows its three tasks on the same time axis
    expect(await timeline.locator('[data-lane="task1"]').count()).toBe(0);
    await timeline.getByRole('button', { name: 'Expand sub-workflow report' }).click();
    for (const t of ['task1', 'task2', 'task3'])
      await timeline.locator(`[data-lane="${t}"] .gantt-bar[data-status="succeeded"]`).waitFor();
    // the picture frames the graph from its top and the timeline under it
    await scrollToGraph(page);
    await h.b.screenshot('run-timeline');
    await h.b.assertClean();
  }, 120_000);

  it("shows a webhook's trace: instance → rules matched and not → execution → chat post, from each record", async () => {
    const page = await signedInPage();
    const fired = await api('POST', '/api/v1/webhooks/uitest/deployed', { env: 'prod', version: '7.1' });
    expect(fired.status, fired.text).toBe(202);
    const execution = await waitFor(
      async () =>
        (await h.running.services.store.executions.findOne({ 'rule.ref': 'uitest.announce_prod' })) ?? null,
      'the execution of uitest.announce_prod',
      30_000,
    );
    // the notification reaches the ops route (the terminal adapter's #ops)
    await waitFor(
      async () =>
        (await h.running.services.store.audit.findOne({
          kind: 'chat.delivery',
          execution_id: execution.id,
          outcome: 'delivered',
        })) ?? null,
      'the notification of the announce execution',
      30_000,
    );

    await page.goto(`/#/history/${execution.id}`);
    await page.getByRole('link', { name: 'Show the trace' }).click();
    await page.waitForURL(new RegExp(`#/trace/execution/${execution.id}$`));
    const tree = page.getByRole('list', { name: 'Trace' });
    const source = tree.locator(':scope > li[data-kind="source"]');
    await source.waitFor();
    expect(await source.locator(':scope > .trace-node').textContent()).toContain('webhook uitest/deployed');
    const instance = source.locator(':scope > ul > li[data-kind="trigger_instance"]');
    expect(await instance.locator(':scope > .trace-node').textContent()).toContain('core.st2.webhook');
    const matched = instance.locator(':scope > ul > li[data-kind="rule_enforcement"]');
    expect(await matched.locator(':scope > .trace-node').textContent()).toContain('uitest.announce_prod');
    const notMatched = instance.locator(':scope > ul > li[data-kind="rule_not_matched"]');
    expect(await notMatched.locator(':scope > .trace-node').textContent()).toContain(
      "uitest.announce_stagingdid not match: trigger.body.env equals 'staging'; the payload has 'prod'",
    );
    const exec = matched.locator(`:scope > ul > li[data-kind="execution"][data-id="${execution.id}"]`);
    expect(await exec.locator(':scope > .trace-node a').getAttribute('href')).toBe(
      `#/history/${execution.id}`,
    );
    const post = exec.locator(':scope > ul > li[data-kind="chat_delivery"]');
    await expect
      .poll(() => post.locator(':scope > .trace-node').textContent())
      .toContain('notification → shell #ops');
    expect(await post.locator(':scope > .trace-node').textContent()).toContain(
      'version 7.1 announced: succeeded',
    );
    // what the execution caused in turn: the notify trigger's instance
    expect(
      await exec.locator(':scope > ul > li[data-kind="trigger_instance"] > .trace-node').allTextContents(),
    ).toEqual(expect.arrayContaining([expect.stringContaining('core.st2.generic.notifytrigger')]));
    await h.b.screenshot('trace');

    // the same tree from the rule enforcement and from the trigger instance
    const enforcementId = await matched.getAttribute('data-id');
    const instanceId = await instance.getAttribute('data-id');
    await page.goto('/#/rules/uitest.announce_prod');
    await page.getByRole('link', { name: 'Trace' }).first().click();
    await page.waitForURL(new RegExp(`#/trace/rule_enforcement/${enforcementId}$`));
    await tree.locator(`li[data-id="${execution.id}"] li[data-kind="chat_delivery"]`).first().waitFor();
    await page.goto(`/#/trace/trigger_instance/${instanceId}`);
    await tree.locator(`li[data-id="${instanceId}"] > .trace-node.trace-focus`).waitFor();
    await tree.locator(`li[data-id="${execution.id}"] li[data-kind="chat_delivery"]`).first().waitFor();
    await h.b.assertClean();
  }, 90_000);
});
