import { expect, it } from 'vitest';
import type { SlackView } from '../../emulators/slack/index.js';
import { saveTranscript } from '../../support/transcripts.js';
import { waitFor } from '../../support/wait.js';
import { describeChat, useSlackSquall } from './harness.js';

const USERS = { 'slack:U0ALICE': 'alice', 'slack:U0BOB': 'mallory' };

/** What a person sees of a modal: title, inputs (kind, initial value, options), errors. */
function seen(view: SlackView) {
  return {
    title: view.title.text,
    inputs: view.blocks.map((b) => ({
      input: b.block_id,
      label: b.label?.text,
      ...(b.optional ? { optional: true } : {}),
      element: b.element?.type,
      ...(b.element?.initial_value !== undefined ? { initial: b.element.initial_value } : {}),
      ...(b.element?.initial_option ? { initial: b.element.initial_option.value } : {}),
      ...(b.element?.options ? { options: b.element.options.map((o) => o.value) } : {}),
    })),
    ...(Object.keys(view.errors).length ? { errors: view.errors } : {}),
  };
}

describeChat(`Slack forms from parameter schemas`, (target) => {
  const { slack, squall } = useSlackSquall(target, USERS);

  const lastView = () => [...slack.views.all.values()].at(-1)!;

  it('"Fill in…" opens a modal from the schema; an invalid value is shown inline; fixed, it runs as the user with a card', async () => {
    const ts = await slack.userSays({ text: '!scale web' });
    // The usage is private, with the button.
    const usage = await slack.waitForEphemeral((e) => e.thread_ts === ts);
    expect(usage.user).toBe('U0ALICE');
    expect(usage.text).toMatch(/is missing something[\s\S]*!scale <service> to <replicas>/);
    expect(slack.posts.items.filter((p) => p.thread_ts === ts)).toEqual([]);

    await slack.clickEphemeralButton({ ephemeral: usage, action_id: 'squall:0' });
    await waitFor(() => slack.views.all.size > 0 && lastView().user === 'U0ALICE', 'views.open');
    const view = lastView();
    expect(seen(view)).toEqual({
      title: 'Run scale',
      inputs: [
        { input: 'service', label: 'service', element: 'plain_text_input' },
        { input: 'replicas', label: 'replicas', element: 'plain_text_input' },
        {
          input: 'region',
          label: 'region',
          optional: true,
          element: 'static_select',
          initial: 'eu',
          options: ['eu', 'us'],
        },
        // A secret is never sent back: no initial value, though it has a default.
        { input: 'token', label: 'token', optional: true, element: 'plain_text_input' },
      ],
    });
    expect(JSON.stringify(slack.calls.items.filter((c) => c.method === 'views.open'))).not.toContain(
      's3cr3t',
    );

    // Invalid: the modal stays open with the errors under their inputs; nothing runs.
    const bad = await slack.submitView({
      view_id: view.id,
      values: { service: 'web', replicas: 'lots' },
    });
    expect(bad.payload).toMatchObject({ response_action: 'errors' });
    expect(view.open).toBe(true);
    expect(Object.keys(view.errors)).toEqual(['replicas']);
    expect(view.errors.replicas).toMatch(/replicas.*integer/);
    const bad2 = await slack.submitView({ view_id: view.id, values: { service: 'web', replicas: '99' } });
    expect(bad2.payload).toMatchObject({ response_action: 'errors' });
    expect(view.errors.replicas).toMatch(/20/);
    const audits = await squall().svc.services.store.audit.find({
      kind: 'chat.command',
      text: 'form e2echat.scale',
    });
    expect(audits).toEqual([]);

    // Fixed: the modal closes and the normal card runs in the command's thread, as alice.
    await slack.submitView({ view_id: view.id, values: { service: 'web', replicas: '3', region: 'us' } });
    expect(view.open).toBe(false);
    const post = await slack.waitForPost((p) => p.thread_ts === ts && /Execution \w+/.test(p.text), 10_000);
    const card = () => slack.findMessage(post.channel, post.ts)!;
    await waitFor(() => /· (succeeded|failed) ·/.test(card().text), 'the final card', 20_000);
    expect(card().text).toMatch(
      /^✅ e2echat\.scale · alice\n[\s\S]*scaled web to 3 in us, token of 14 chars/,
    );
    const run = (await squall().svc.services.store.executions.get(/Execution (\w+)/.exec(card().text)![1]))!;
    expect(run.context?.user).toBe('alice');
    expect(run.parameters).toMatchObject({ service: 'web', replicas: 3, region: 'us' });
    // The secret default was never in anything Slack saw.
    expect(JSON.stringify(slack.calls.items)).not.toContain('s3cr3t');

    saveTranscript(
      'slack-form',
      'A form from the parameter schema on Slack: usage, modal, inline error, run',
      [
        { alice: '!scale web' },
        { squall: 'whispers the usage with a button', text: usage.text, buttons: ['Fill in…'] },
        { alice: 'clicks Fill in…' },
        { squall: 'opens the modal (views.open)', ...seen({ ...view, errors: {} }) },
        { alice: 'submits', values: { service: 'web', replicas: 'lots' } },
        {
          squall: 'keeps the modal open (response_action errors)',
          errors: (bad.payload as { errors: unknown }).errors,
        },
        { alice: 'submits', values: { service: 'web', replicas: '3', region: 'us' } },
        { squall: 'closes the modal and posts the card in the thread', card: card().text },
      ],
    );
  });

  it('/squall run ACTION with no arguments opens the same form; the card goes to the channel', async () => {
    await slack.slashCommand({ command: '/squall', text: 'run e2echat.scale' });
    await waitFor(
      () => lastView()?.open && lastView().state.values && seen(lastView()).inputs.length === 4,
      'the form',
    );
    const view = lastView();
    await slack.submitView({ view_id: view.id, values: { service: 'api', replicas: '2' } });
    const post = await slack.waitForPost((p) => !p.thread_ts && /e2echat\.scale/.test(p.text), 10_000);
    await waitFor(
      () => slack.findMessage(post.channel, post.ts)!.text.includes('scaled api to 2 in eu'),
      'the final card',
      20_000,
    );
    // No "ran /squall" echo: the modal was the answer.
    expect(slack.posts.items.some((p) => p.text.includes('ran /squall run'))).toBe(false);
  });

  it("a message shortcut opens the form of that message's command, filled in from it", async () => {
    const ts = await slack.userSays({ text: '!scale db to 4' });
    await waitFor(
      // The card as it reads now (a slow run's card is posted first, then edited).
      () => slack.thread(slack.defaultChannel, ts).some((m) => m.text.includes('scaled db to 4')),
      'the command runs',
      20_000,
    );
    await slack.messageShortcut({ callback_id: 'squall_run_form', message_ts: ts });
    await waitFor(() => seen(lastView()).inputs[0].initial === 'db', 'the prefilled form');
    expect(
      seen(lastView())
        .inputs.slice(0, 2)
        .map((i) => i.initial),
    ).toEqual(['db', '4']);
  });

  it('someone who may not run the action gets a private refusal instead of a form', async () => {
    const ts = await slack.userSays({ text: '!scale web', user: 'U0BOB' });
    const usage = await slack.waitForEphemeral((e) => e.thread_ts === ts && e.user === 'U0BOB');
    const before = slack.views.all.size;
    await slack.clickEphemeralButton({ ephemeral: usage, action_id: 'squall:0' });
    const refusal = await slack.waitForEphemeral(
      (e) => e.user === 'U0BOB' && /not allowed to run e2echat\.scale/.test(e.text),
    );
    expect(refusal.thread_ts).toBe(ts);
    expect(slack.views.all.size).toBe(before);
  });
});
