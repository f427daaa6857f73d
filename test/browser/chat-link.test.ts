/**
 * Issue 23, linked identities: the page a `!link` reply points to. Opened logged out, it asks for
 * the login, then shows which chat account the link is for; confirming links it to the user, the
 * list shows it, and Revoke removes it.
 */
import { expect, it } from 'vitest';
import { ChatLinks } from '../../src/chatops/index.js';
import { PASSWORD, describeBrowser } from './harness.js';

describeBrowser('the chat link page in headless chromium', (h) => {
  it('log in from the link, see the chat account, confirm, list it, revoke it', async () => {
    // What `!link` said to U0ALICE on Slack (the chat side is covered by test/e2e/chat/link.test.ts).
    const { token } = await new ChatLinks(h.running.services).request({
      platform: 'slack',
      workspace: 'T0SQUALL',
      chat_user: { id: 'U0ALICE', name: 'alice' },
    });
    const { page } = h.b;
    await page.goto(`/#/chat-link/${token}`);
    await page.getByLabel('Username').fill(h.admin);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const preview = page.getByTestId('chat-link-preview');
    await expect.poll(() => preview.textContent()).toContain('alice (U0ALICE) on slack T0SQUALL');
    expect(await preview.textContent()).toContain(`your Squall account ${h.admin}`);
    await h.b.screenshot('chat-link-confirm');
    await page.getByRole('button', { name: `Link to ${h.admin}` }).click();

    await expect.poll(() => page.url()).toContain('#/chatlinks');
    expect(page.url()).not.toContain(token);
    await page.getByRole('status').filter({ hasText: 'Linked.' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'U0ALICE' });
    expect(await row.textContent()).toContain(h.admin);
    expect((await h.api('GET', '/api/v1/chatops/links')).body).toEqual([
      expect.objectContaining({ id: 'slack:T0SQUALL:U0ALICE', user: h.admin }),
    ]);
    await h.b.screenshot('chat-links');

    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('No chat accounts are linked.').waitFor();
    expect((await h.api('GET', '/api/v1/chatops/links')).body).toEqual([]);

    await h.b.assertClean();

    // The token worked once: opening it again says so. (The page may ask twice, as React's
    // StrictMode mounts it twice; each refusal is the same 404.)
    await page.goto(`/#/chat-link/${token}`);
    await expect.poll(() => page.getByRole('alert').first().textContent()).toMatch(/already used or expired/);
    await page.evaluate(() => 0);
    const failed = h.b.failedRequests.splice(0);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.filter((r) => !/POST \S+\/api\/v1\/chatops\/links\/preview: 404$/.test(r))).toEqual([]);
    const logged = h.b.consoleErrors.splice(0);
    expect(logged.filter((c) => !/status of 404 .*chatops\/links\/preview/.test(c))).toEqual([]);
    await h.b.assertClean();
  }, 90_000);
});
