/**
 * The web UI's end-to-end flows (issue #11): a webhook rule built, tested and saved in the rule
 * editor, then fired with curl; an inquiry answered from the Inquiries page; a pack config with a
 * schema error. Every test ends with no failed request and no console error but the ones it
 * provokes on purpose.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { describeBrowser } from './harness.js';

const FIXTURE_PACKS = path.join(import.meta.dirname, 'fixtures', 'packs');

/** Runs a command without blocking the event loop (the server answering it is in this process). */
function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Waits for the first pending inquiry in the list, opens it, and returns its answer form. */
async function openFirstInquiry(page: Page): Promise<{ inquiryId: string; form: Locator }> {
  const link = page.getByRole('complementary', { name: 'Pending inquiries' }).getByRole('link').first();
  await link.waitFor({ timeout: 30_000 });
  const inquiryId = (await link.textContent())!;
  await link.click();
  const form = page.getByRole('form', { name: `Respond to inquiry ${inquiryId}` });
  await form.waitFor();
  return { inquiryId, form };
}

describeBrowser('web UI flows in headless chromium', { 'packs.paths': [FIXTURE_PACKS] }, (h) => {
  let token: string;

  const api = (method: string, p: string, body?: unknown) => h.api(method, p, body);

  beforeAll(async () => {
    token = await h.token();
  }, 120_000);

  it('builds a webhook rule, tests it against pasted JSON, saves it, and shows the curl-fired execution live', async () => {
    await h.signedIn();
    const { page } = h.b;
    await page.goto('/#/rules/new');
    const editor = page.getByRole('form', { name: 'Rule' });
    await editor.getByLabel('Name').fill('deploy_hook');
    await editor.getByLabel('Pack', { exact: true }).fill('uitest');
    await editor.getByLabel('Trigger type').selectOption('core.st2.webhook');
    await editor.locator('input[name="url"]').fill('ui/deploy');
    await editor.getByRole('button', { name: 'Add criterion' }).click();
    await editor.getByLabel('Criterion 1 key').fill('trigger.body.env');
    await editor.getByLabel('Criterion 1 operator').selectOption('equals');
    await editor.getByLabel('Criterion 1 pattern').fill('prod');
    await editor.getByLabel('Action', { exact: true }).fill('core.local');
    const cmd = editor.locator('input[name="cmd"]');
    await cmd.waitFor();
    await cmd.fill('echo deploying {{ trigger.body.version }} to {{ trigger.body.env }}');

    // test before saving: one payload that matches, one that does not
    const input = editor.getByLabel('A stored trigger instance id, or a payload as JSON');
    const report = editor.getByRole('status', { name: 'Test result' });
    await input.fill('{"body": {"env": "prod", "version": "2.4.1"}}');
    await editor.getByRole('button', { name: 'Test rule' }).click();
    await expect.poll(() => report.locator('strong').textContent()).toBe('RULE MATCHES');
    const criterion = report.getByRole('table', { name: 'Criteria results' }).getByRole('row').nth(1);
    expect(await criterion.textContent()).toContain('matches');
    await expect
      .poll(() => report.getByRole('tree', { name: 'Rendered parameters' }).textContent())
      .toContain('echo deploying 2.4.1 to prod');
    await report.scrollIntoViewIfNeeded();
    await h.b.screenshot('rule-editor-tested');

    await input.fill('{"body": {"env": "staging", "version": "2.4.1"}}');
    await editor.getByRole('button', { name: 'Test rule' }).click();
    await expect.poll(() => report.locator('strong').textContent()).toBe('RULE DOES NOT MATCH');
    expect(await criterion.textContent()).toContain('"staging"');
    expect(await criterion.textContent()).toContain('does not match');
    expect(await report.getByRole('tree', { name: 'Rendered parameters' }).count()).toBe(0);
    // testing stored nothing
    expect((await api('GET', '/api/v1/rules/uitest.deploy_hook')).status).toBe(404);

    await editor.getByRole('button', { name: 'Save rule' }).click();
    await page.waitForURL(/#\/rules\/uitest\.deploy_hook$/);
    const saved = await api('GET', '/api/v1/rules/uitest.deploy_hook');
    expect(saved.body).toMatchObject({
      enabled: true,
      trigger: { type: 'core.st2.webhook', parameters: { url: 'ui/deploy' } },
      criteria: { 'trigger.body.env': { type: 'equals', pattern: 'prod' } },
      action: {
        ref: 'core.local',
        parameters: { cmd: 'echo deploying {{ trigger.body.version }} to {{ trigger.body.env }}' },
      },
    });

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'History' }).click();
    await page.getByRole('listbox', { name: 'Executions' }).waitFor();
    // a mark in this document: it is gone if the page reloads
    await page.evaluate(() => Object.assign(globalThis, { __noReload: true }));
    const curl = await run('curl', [
      '-sS',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-X',
      'POST',
      '-H',
      'Content-Type: application/json',
      '-H',
      `X-Auth-Token: ${token}`,
      '--data',
      '{"env": "prod", "version": "2.4.1"}',
      `${h.running.url}/api/v1/webhooks/ui/deploy`,
    ]);
    expect(curl, curl.stderr).toMatchObject({ code: 0, stdout: '202' });

    const execution = await waitFor(
      async () =>
        (await h.running.services.store.executions.findOne({ 'rule.ref': 'uitest.deploy_hook' })) ?? null,
      'the execution of uitest.deploy_hook',
      30_000,
    );
    const row = page.locator(`[data-execution-id="${execution.id}"]`);
    await row.locator('.status-succeeded').waitFor({ timeout: 30_000 });
    expect(await row.textContent()).toContain('core.local');
    expect(await page.evaluate(() => (globalThis as { __noReload?: boolean }).__noReload)).toBe(true);
    await h.b.screenshot('history-webhook');
    await h.b.assertClean();
  }, 90_000);

  it('answers a pending inquiry from the Inquiries page and the workflow finishes', async () => {
    await h.signedIn();
    const { page } = h.b;
    await page.goto('/#/inquiries');
    const pending = page.getByRole('complementary', { name: 'Pending inquiries' });
    await pending.getByText('No pending inquiries.').waitFor();

    const started = await api('POST', '/api/v1/executions', {
      action: 'uitest.deploy-approval',
      parameters: { version: '3.1.0' },
    });
    expect(started.status, started.text).toBe(201);
    const workflowId = started.body.id as string;

    // the list follows the stream: the inquiry shows up without a reload
    const { inquiryId, form } = await openFirstInquiry(page);
    await expect.poll(() => page.locator('.content').textContent()).toContain(`workflow ${workflowId}`);
    expect(await form.textContent()).toContain('Deploy this version?');

    // the form comes from the schema: approved is a checkbox, hosts a number, reason is required
    expect(await form.locator('input[name="approved"]').getAttribute('type')).toBe('checkbox');
    expect(await form.locator('input[name="hosts"]').getAttribute('type')).toBe('number');
    await form.getByRole('button', { name: 'Respond' }).click();
    await expect.poll(() => form.textContent()).toContain('reason: required');
    await form.locator('input[name="approved"]').check();
    await form.locator('input[name="reason"]').fill('release train 42');
    await form.locator('input[name="hosts"]').fill('3');
    // the error goes once the field is filled in
    expect(await form.locator('.field-error').count()).toBe(0);
    await h.b.screenshot('inquiry-form');
    await form.getByRole('button', { name: 'Respond' }).click();
    await page.getByText(`Answered inquiry ${inquiryId}`).waitFor();
    await pending.getByText('No pending inquiries.').waitFor();

    await page.goto(`/#/history/${workflowId}`);
    await page
      .getByRole('heading', { name: /uitest\.deploy-approval/ })
      .locator('.status-succeeded')
      .waitFor({ timeout: 30_000 });
    const result = page.getByRole('tree', { name: 'Result' });
    await result.getByRole('button', { name: 'Expand output' }).click();
    await result.getByRole('button', { name: 'Expand answer' }).click();
    await result.getByText('"release train 42"').waitFor();
    await h.b.screenshot('workflow-after-inquiry');
    const workflow = await api('GET', `/api/v1/executions/${workflowId}`);
    expect(workflow.body.result.output.answer).toEqual({
      approved: true,
      reason: 'release train 42',
      hosts: 3,
    });

    // the audit trail says the answer came through the UI
    const audit = await h.running.services.store.audit.find({
      kind: 'inquiry.decision',
      inquiry_id: inquiryId,
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ via: 'ui', actor: h.admin, outcome: 'accepted' });
    await h.b.assertClean();
  }, 90_000);

  it('keeps an answer half filled in when another inquiry arrives', async () => {
    await h.signedIn();
    const { page } = h.b;
    await page.goto('/#/inquiries');
    const pending = page.getByRole('complementary', { name: 'Pending inquiries' });
    const start = async () => {
      const r = await api('POST', '/api/v1/executions', {
        action: 'uitest.deploy-approval',
        parameters: { version: '3.2.0' },
      });
      expect(r.status, r.text).toBe(201);
      return r.body.id as string;
    };
    const first = await start();
    const { inquiryId, form } = await openFirstInquiry(page);
    // live, so the next inquiry is announced (and the list read again) while the form is open
    await page.locator('.stream-open').waitFor({ timeout: 30_000 });
    await form.locator('input[name="approved"]').check();
    await form.locator('input[name="reason"]').fill('half way');

    const second = await start();
    await expect.poll(() => pending.getByRole('link').count(), { timeout: 30_000 }).toBe(2);
    expect(await form.locator('input[name="approved"]').isChecked()).toBe(true);
    expect(await form.locator('input[name="reason"]').inputValue()).toBe('half way');

    await form.locator('input[name="hosts"]').fill('2');
    await form.getByRole('button', { name: 'Respond' }).click();
    await page.getByText(`Answered inquiry ${inquiryId}`).waitFor();
    const done = await waitFor(
      async () => {
        const r = await api('GET', `/api/v1/executions/${first}`);
        return r.body.status === 'succeeded' ? r.body : null;
      },
      'the first workflow to succeed',
      30_000,
    );
    expect(done.result.output.answer).toEqual({ approved: true, reason: 'half way', hosts: 2 });

    // the other one is answered through the API, so nothing is left waiting
    const others = (await api('GET', '/api/v1/inquiries')).body as { id: string; parent?: string }[];
    const other = others.find((i) => i.parent === second);
    expect(other).toBeDefined();
    const answered = await api('PUT', `/api/v1/inquiries/${other!.id}`, {
      id: other!.id,
      response: { approved: false, reason: 'not now' },
    });
    expect(answered.status, answered.text).toBeLessThan(300);
    await h.b.assertClean();
  }, 90_000);

  it('shows which config field is wrong and why, then stores the fixed config', async () => {
    await h.signedIn();
    const { page } = h.b;
    await page.goto('/#/packs/uitest');
    const form = page.getByRole('form', { name: 'Configuration of uitest' });
    await form.waitFor();
    const save = form.getByRole('button', { name: 'Save configuration' });
    const stored = async () => (await api('GET', '/api/v1/configs/uitest')).body.values as object;
    const before = await stored();
    expect(before).not.toHaveProperty('api_url');

    // checked in the browser from the schema: the required string, the integer's range
    await form.locator('input[name="port"]').fill('70000');
    await save.click();
    const alert = form.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('The configuration is not valid');
    expect(await alert.textContent()).toContain('api_url required');
    expect(await form.locator('.field-error').allTextContents()).toEqual([
      'api_url: required',
      'port: must be ≤ 65535',
    ]);

    // checked by the server: a nested property of an object field
    await form.locator('input[name="api_url"]').fill('https://deploy.example.org');
    await form.locator('input[name="port"]').fill('8443');
    await form.locator('textarea[name="options"]').fill('{"timeout": "soon"}');
    h.b.expectFailure(/^PUT \S+\/api\/v1\/configs\/uitest: 400$/);
    await save.click();
    await expect.poll(() => alert.textContent()).toContain('options.timeout: must be integer');
    expect(await alert.textContent()).toMatch(/^400 /);
    expect(await form.locator('.field-error').allTextContents()).toEqual([
      'options: timeout: must be integer',
    ]);
    // the picture frames the refused field, the server's answer and the button under it
    await save.scrollIntoViewIfNeeded();
    await h.b.screenshot('pack-config-error');
    expect(await stored()).toEqual(before);

    await form.locator('textarea[name="options"]').fill('{"timeout": 30}');
    await save.click();
    await expect.poll(() => form.getByRole('status').textContent()).toContain('Configuration saved');
    expect(await form.getByRole('alert').count()).toBe(0);
    expect(await stored()).toEqual({
      api_url: 'https://deploy.example.org',
      port: 8443,
      options: { timeout: 30 },
    });
    await h.b.assertClean();
  }, 60_000);

  it('the failure check catches an unexpected failed request, a console error, and a provoked failure that did not happen', async () => {
    await h.signedIn();
    const { page } = h.b;
    await page.evaluate(async () => {
      await fetch('/api/v1/rules/no.such_rule');
      console.error('something broke');
    });
    await expect(h.b.assertClean()).rejects.toThrow(
      /unexpected failed request: GET \S+\/api\/v1\/rules\/no\.such_rule: 404[\s\S]*console error: Failed to load resource: the server responded with a status of 404[\s\S]*console error: something broke/,
    );
    h.b.expectFailure(/^GET \S+\/api\/v1\/nothing: 404$/);
    await expect(h.b.assertClean()).rejects.toThrow(
      /expected a failed request matching .*nothing.*, there was none/,
    );
    // each check starts afresh
    await h.b.assertClean();
  });
});
