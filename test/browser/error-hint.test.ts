/**
 * An API error's hint (the next step its author wrote: which command lists what exists) shows
 * under the message wherever the UI shows the error, as the CLI prints it.
 */
import { expect, it } from 'vitest';
import { describeBrowser } from './harness.js';

describeBrowser('API error hints in headless chromium', (h) => {
  it('an action that does not exist shows the 404 with its hint', async () => {
    await h.signedIn();
    const { page } = h.b;
    const api = await h.api('GET', '/api/v1/actions/views/overview/nopack.nothing');
    expect(api.status).toBe(404);
    expect(api.body.hint).toBe('list actions with `squall action list`');

    h.b.expectFailure(/^GET \S+\/api\/v1\/actions\/views\/overview\/nopack\.nothing: 404$/);
    await page.goto('/#/actions/nopack.nothing');
    const alert = page.getByRole('alert').filter({ hasText: 'nopack.nothing' });
    await alert.waitFor();
    expect(await alert.getByText('list actions with `squall action list`').count()).toBe(1);
    expect(await alert.textContent()).toContain('404');
    await h.b.screenshot('error-hint');
    await h.b.assertClean();
  }, 60_000);
});
