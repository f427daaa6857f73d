import { expect, it } from 'vitest';
import type { DiscordModal } from '../../emulators/discord/index.js';
import { saveTranscript } from '../../support/transcripts.js';
import { waitFor } from '../../support/wait.js';
import { describeChat, useDiscordSquall } from './harness.js';

const ALICE = '1200000000000000101';
const BOB = '1200000000000000102';
const USERS = { [`discord:${ALICE}`]: 'alice', [`discord:${BOB}`]: 'mallory' };

const textOf = (m: { content: string; embeds: unknown[] }) =>
  [
    m.content,
    ...(m.embeds as Array<{ title?: string; description?: string }>).map((e) =>
      [e.title, e.description].filter(Boolean).join('\n'),
    ),
  ]
    .filter(Boolean)
    .join('\n');

/** What a person sees of a modal: its inputs (label, style, prefilled value, placeholder). */
const seen = (modal: DiscordModal) => ({
  title: modal.title,
  inputs: modal.inputs.map((t) => ({
    input: t.custom_id,
    ...(t.required === false ? { optional: true } : {}),
    ...(t.value !== undefined ? { value: t.value } : {}),
    ...(t.placeholder ? { placeholder: t.placeholder } : {}),
  })),
});

describeChat(`Discord forms from parameter schemas`, (target) => {
  const { discord, squall } = useDiscordSquall(target, USERS);
  const fillIn = (m: { components: unknown[] }) =>
    (m.components as Array<{ components?: Array<{ custom_id?: string; label?: string }> }>)
      .flatMap((r) => r.components ?? [])
      .find((b) => b.label === 'Fill in…')!.custom_id!;

  it('"Fill in…" opens a modal (type 9); invalid values come back privately with the form to fix; fixed, it runs with a card', async () => {
    await discord.slashCommand({ name: 'squall', options: { command: 'scale web' } });
    const root = await discord.waitForPost((p) => p.content.includes('ran /squall scale web'));
    const usage = await discord.waitForEphemeral((p) => /is missing something/.test(textOf(p)));
    expect(textOf(usage)).toMatch(/!scale <service> to <replicas>/);

    const opened = await discord.clickButton({ message: usage, custom_id: fillIn(usage) });
    expect(opened.type).toBe(9);
    const modal = discord.modals.items.at(-1)!;
    expect(seen(modal)).toEqual({
      title: 'Run scale',
      inputs: [
        { input: 'service', placeholder: 'Service to scale · string' },
        { input: 'replicas', placeholder: 'integer' },
        // Discord modals hold text inputs: the choice is typed, its options named.
        { input: 'region', optional: true, value: 'eu', placeholder: 'one of: eu, us' },
        // A secret is never filled in.
        { input: 'token', optional: true, placeholder: 'string · leave empty for the default' },
      ],
    });

    // Invalid: validated server-side; the errors come back privately, with the form to fix.
    const refused = await discord.submitModal({
      modal,
      values: { service: 'web', replicas: 'lots', region: 'mars' },
    });
    expect(refused.type).toBe(4);
    expect(Number(refused.data?.flags) & 64).toBe(64);
    const errors = await discord.waitForEphemeral((p) => /did not run/.test(textOf(p)));
    expect(textOf(errors)).toMatch(/replicas: .*integer/);
    expect(textOf(errors)).toMatch(/region: .*(eu|allowed)/);
    expect(textOf(errors)).not.toMatch(/service:/);

    const again = await discord.clickButton({ message: errors, custom_id: fillIn(errors) });
    expect(again.type).toBe(9);
    const modal2 = discord.modals.items.at(-1)!;
    // Filled in as typed, so only the mistakes need retyping.
    expect(modal2.inputs.map((t) => t.value)).toEqual(['web', 'lots', 'mars', undefined]);

    const accepted = await discord.submitModal({
      modal: modal2,
      values: { replicas: '3', region: 'us' },
    });
    expect(accepted.type).toBe(6);
    const post = await discord.waitForPost(
      (p) => p.channel_id === root.id && /Execution \w+/.test(textOf(p)),
      10_000,
    );
    const card = () => discord.message(post.id)!;
    await waitFor(() => /· (succeeded|failed) ·/.test(textOf(card())), 'the final card', 20_000);
    expect(textOf(card())).toMatch(/^✅ e2echat\.scale\n[\s\S]*scaled web to 3 in us, token of 14 chars/);
    const run = (await squall().svc.services.store.executions.get(
      /Execution (\w+)/.exec(textOf(card()))![1],
    ))!;
    expect(run.context?.user).toBe('alice');
    expect(JSON.stringify(discord.interactionResponses.items)).not.toContain('s3cr3t');

    saveTranscript(
      'discord-form',
      'A form from the parameter schema on Discord: usage, modal, errors, fix, run',
      [
        { alice: '/squall command:scale web' },
        {
          squall: 'replies privately with the usage and a button',
          text: textOf(usage),
          buttons: ['Fill in…'],
        },
        { alice: 'clicks Fill in…' },
        { squall: 'answers with a modal (type 9)', ...seen(modal) },
        { alice: 'submits', values: { service: 'web', replicas: 'lots', region: 'mars' } },
        {
          squall: 'replies privately (a Discord modal cannot show errors)',
          text: textOf(errors),
          buttons: ['Fill in…'],
        },
        { alice: 'clicks Fill in…, gets the form as typed', ...seen(modal2) },
        { alice: 'submits', values: { replicas: '3', region: 'us' } },
        { squall: 'posts the card in the thread', card: textOf(card()) },
      ],
    );
  });

  it('/squall run ACTION answers with the modal itself; beyond five parameters it links the web UI form', async () => {
    const cb = await discord.slashCommand({ name: 'squall', options: { command: 'run e2echat.scale' } });
    expect(cb.type).toBe(9);
    const modal = discord.modals.items.at(-1)!;
    const done = await discord.submitModal({ modal, values: { service: 'api', replicas: '2' } });
    expect(done.type).toBe(4);
    const post = await discord.waitForPost(
      (p) => p.channel_id === discord.defaultChannel && /e2echat\.scale[\s\S]*Execution \w+/.test(textOf(p)),
      10_000,
    );
    await waitFor(
      () => textOf(discord.message(post.id)!).includes('scaled api to 2 in eu'),
      'the card',
      20_000,
    );

    const wide = await discord.slashCommand({ name: 'squall', options: { command: 'run e2echat.wide' } });
    expect(wide.type).toBe(4);
    expect(Number(wide.data?.flags) & 64).toBe(64);
    expect(String(wide.data?.content)).toMatch(
      /e2echat\.wide has 6 parameters, more than a form here holds \(5\)[\s\S]*\/#\/actions\/e2echat\.wide/,
    );
  });

  it('someone who may not run the action is told privately, with no form', async () => {
    const before = discord.modals.items.length;
    const cb = await discord.slashCommand({
      name: 'squall',
      options: { command: 'run e2echat.scale' },
      user: BOB,
    });
    expect(cb.type).toBe(4);
    expect(String(cb.data?.content)).toMatch(/not allowed to run e2echat\.scale/);
    expect(discord.modals.items.length).toBe(before);
  });
});
