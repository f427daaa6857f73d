import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlackAdapter } from '../../../adapters/slack/index.js';
import type { ChatForm, FormOutcome } from '../../../src/chatops/index.js';
import type { SlackEmulator } from '../../emulators/slack/index.js';
import { adapterOnEmulator, quietLogger } from '../../support/chat-emulators.js';

const FORM: ChatForm = {
  title: 'Run core.local',
  submit: 'Run',
  context: JSON.stringify({ a: 'core.local', c: 'C0OPS' }),
  fields: [{ name: 'cmd', label: 'cmd', kind: 'text', required: true, hint: 'string' }],
};

/**
 * Slack takes a view_submission's ack within 3 s (later, the modal says it had trouble connecting
 * and the ack is dropped; the emulator's submitView fails the same way), and only the ack can show
 * errors under the inputs. A submission slower to check than that must still reach the person.
 */
describe('Slack adapter: a form submission slower than the 3 s ack window', () => {
  let slack: SlackEmulator;
  let adapter: SlackAdapter;
  let outcome: FormOutcome;
  let submitMs: number;
  const errors: string[] = [];

  beforeEach(async () => {
    errors.length = 0;
    submitMs = 3_500;
    ({ emulator: slack, adapter } = await adapterOnEmulator('slack', {
      adapter: {
        logger: { ...quietLogger, error: (o, msg) => void errors.push(`${msg} ${JSON.stringify(o)}`) },
      },
    }));
    adapter.onMessage(() => undefined);
    adapter.onButton(() => undefined);
    adapter.onForm({
      open: () => Promise.resolve({ form: FORM }),
      submit: () => new Promise((resolve) => setTimeout(() => resolve(outcome), submitMs)),
    });
    await adapter.connect();
  });

  afterEach(async () => {
    await adapter.disconnect();
    await slack.stop();
    expect(errors).toEqual([]);
  });

  const openAndSubmit = async () => {
    await slack.slashCommand({ command: '/squall', text: 'run core.local' });
    const call = await slack.waitForCall('views.open');
    const viewId = (call.response as { view: { id: string } }).view.id;
    await slack.submitView({ view_id: viewId, values: { cmd: 'date' } });
    return viewId;
  };

  const shows = (viewId: string) => JSON.stringify(slack.views.all.get(viewId)?.blocks ?? []);

  it('accepted: acked in time with "Checking…", then the modal says it runs', async () => {
    outcome = {};
    const viewId = await openAndSubmit();
    expect(shows(viewId)).toContain('Checking…');
    await expect.poll(() => shows(viewId), { timeout: 5_000 }).toContain('Running it…');
  }, 20_000);

  it('refused: acked in time, then the form again with its errors, which can be fixed and sent', async () => {
    outcome = {
      errors: { cmd: 'must not be "date"' },
      retry: { ...FORM, fields: [{ ...FORM.fields[0]!, initial: 'date' }] },
    };
    const viewId = await openAndSubmit();
    await expect.poll(() => shows(viewId), { timeout: 5_000 }).toContain('must not be');
    const view = slack.views.all.get(viewId)!;
    expect(view.open).toBe(true);
    expect(view.submit?.text).toBe('Run');
    // Fixed and sent again, quickly this time: closes.
    outcome = {};
    submitMs = 0;
    await slack.submitView({ view_id: viewId, values: { cmd: 'uptime' } });
    expect(slack.views.all.get(viewId)?.open).toBe(false);
  }, 20_000);

  it('a quick refusal still shows the errors under the inputs (the ack)', async () => {
    submitMs = 0;
    outcome = { errors: { cmd: 'must not be "date"' }, retry: FORM };
    const viewId = await openAndSubmit();
    expect(slack.views.all.get(viewId)?.errors).toEqual({ cmd: 'must not be "date"' });
  }, 20_000);
});
