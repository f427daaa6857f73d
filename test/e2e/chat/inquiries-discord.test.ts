import { expect, it } from 'vitest';
import { PAYLOAD_PREFIX } from '../../../src/inquiries/index.js';
import { saveTranscript } from '../../support/transcripts.js';
import { waitFor } from '../../support/wait.js';
import { pressAndConfirm } from './confirm.js';
import { describeChat, useDiscordSquall } from './harness.js';
import { expectApprovedByBob, expectDeniedByBob, inquiryOf } from './inquiry-checks.js';

// alice asks, bob approves, carol is a Squall user the deploy's ask does not list.
const ALICE = '1200000000000000101';
const BOB = '1200000000000000102';
const CAROL = '1200000000000000103';
const USERS = { [`discord:${ALICE}`]: 'alice', [`discord:${BOB}`]: 'bob', [`discord:${CAROL}`]: 'carol' };

type Row = { components?: Array<{ custom_id?: string; label?: string }> };
type Posted = { id: string; channel_id: string; content: string; embeds: unknown[]; components: unknown[] };

const textOf = (m: { content: string; embeds: unknown[] }) =>
  `${m.content}\n${(m.embeds as Array<{ title?: string; description?: string }>)
    .map((e) => [e.title, e.description].filter(Boolean).join('\n'))
    .join('\n')}`;
const buttonsOf = (m: { components: unknown[] }) =>
  (m.components as Row[]).flatMap((r) => r.components ?? []);
/** A bot message in a transcript: what `squall` did, its text and its buttons. */
const shown = (squall: string, m: { content: string; embeds: unknown[]; components: unknown[] }) => ({
  squall,
  text: textOf(m).trim(),
  buttons: buttonsOf(m)
    .map((b) => `[${b.label}]`)
    .join(' '),
});

describeChat(`Inquiries on Discord, end to end`, (target) => {
  const { discord, squall } = useDiscordSquall(target, USERS);
  discord.addUser({ id: CAROL, username: 'carol' });

  /** Posts in the thread Discord starts from message `id` (the thread takes that id). */
  const inThread = (id: string) => (p: { channel_id: string }) => p.channel_id === id;
  /** The run's card once it shows `text` (posted final when the run was quick, else edited). */
  const finalCard = (thread: string, text: string) =>
    waitFor(
      () =>
        discord
          .channelMessages(thread)
          .find((m) => m.author.id === discord.botUserId && textOf(m).includes(text)),
      'the final card',
      30_000,
    );

  /** Says "!deploy <service>" and returns the command's thread and the Approve/Deny prompt in it. */
  async function startDeploy(service: string): Promise<{ thread: string; prompt: Posted; id: string }> {
    const thread = discord.userSays({ content: `!deploy ${service}` });
    const prompt = (await discord.waitForPost(
      (p) => inThread(thread)(p) && buttonsOf(p).some((b) => b.custom_id?.includes(PAYLOAD_PREFIX)),
      20_000,
    )) as Posted;
    const id = /Inquiry (\w+)/.exec(textOf(prompt))![1];
    return { thread, prompt, id };
  }

  /** Clicks the button labelled `label` under `prompt` as `user`. */
  const click = async (prompt: Posted, label: 'Approve' | 'Deny', user: string) => {
    const input = {
      message_id: prompt.id,
      custom_id: buttonsOf(prompt).find((b) => b.label === label)!.custom_id!,
      user,
    };
    // Deny asks "are you sure?" first (an ephemeral follow-up: Discord has no confirm dialog).
    if (label === 'Deny') await pressAndConfirm(discord, input);
    else await discord.clickButton(input);
  };

  /** The refusal only `user` sees: the ephemeral follow-up of their button press in the thread. */
  const refusalTo = (thread: string, user: string, says: string) =>
    discord.waitForEphemeral(
      (p) =>
        inThread(thread)(p) &&
        (p.interaction_metadata as { user?: { id?: string } } | undefined)?.user?.id === user &&
        textOf(p).includes(says),
      15_000,
    );

  it('Approve: an outsider and the requester are refused, the approver resumes the workflow', async () => {
    const { thread, prompt, id } = await startDeploy('api');
    expect(discord.channel(thread)?.parent_id).toBe(discord.defaultChannel);
    expect(textOf(prompt)).toContain('Deploy to production?');
    expect(buttonsOf(prompt).map((b) => b.label)).toEqual(['Approve', 'Deny']);

    await click(prompt, 'Approve', CAROL);
    await refusalTo(thread, CAROL, 'carol is not allowed to respond');
    // Nobody else in the thread sees it.
    expect(
      discord.posts.items.filter((p) => inThread(thread)(p) && textOf(p).includes('not allowed')),
    ).toEqual([]);
    expect(await inquiryOf(squall().svc.services.apiUrl, id)).toMatchObject({ status: 'pending' });

    await click(prompt, 'Approve', ALICE);
    await refusalTo(thread, ALICE, 'started this workflow and cannot also approve it');
    expect(await inquiryOf(squall().svc.services.apiUrl, id)).toMatchObject({ status: 'pending' });

    await click(prompt, 'Approve', BOB);
    const result = await finalCard(thread, 'Deploy of api');
    expect(textOf(result).trim()).toMatch(/\nDeploy of api succeeded: shipped api$/);
    const edit = await discord.waitForUpdate((u) => u.id === prompt.id, 10_000);
    expect(textOf(edit)).toMatch(/Deploy to production\?[\s\S]*\n✅ Approved by @bob · \d\d:\d\d UTC\s*$/);
    expect(edit.components).toEqual([]);
    expect(discord.message(prompt.id)?.components).toEqual([]);

    await expectApprovedByBob(squall().svc.services.store, id, {
      adapter: 'discord',
      channel: discord.defaultChannel,
      thread,
      bobId: BOB,
      refused: [CAROL, ALICE],
    });
  }, 60_000);

  it('the prompt names requester, approvers (mentioned) and expiry; the card waits for approval and its Deny ends the run', async () => {
    const { thread, prompt, id } = await startDeploy('web');
    // The mention is in the content (an embed's mention notifies nobody), allowed for bob only.
    expect(prompt.content).toBe(`cc <@${BOB}>`);
    expect(textOf(prompt)).toMatch(
      new RegExp(
        '\\n✋ Approval needed: Deploy to production\\?\n' +
          'Requested by @alice · Approvers: @alice or @bob · expires in 24 h \\(\\d\\d:\\d\\d UTC\\)\n' +
          '\\(the requester cannot approve\\)\n' +
          `Inquiry ${id}$`,
      ),
    );
    const isCard = (m: Posted & { author?: { id: string } }) =>
      m.author?.id === discord.botUserId && /e2echat\.deploy\n/.test(textOf(m));
    const waiting = structuredClone(
      await waitFor(
        () =>
          discord
            .channelMessages(thread)
            .find((m) => isCard(m as never) && textOf(m).includes('· waiting for approval ·')),
        'the card waiting for approval',
        15_000,
      ),
    );
    expect(buttonsOf(waiting).map((b) => b.label)).toEqual(['Deny', 'Cancel', 'Open']);

    const ask = await pressAndConfirm(discord, {
      message_id: waiting.id,
      custom_id: buttonsOf(waiting)[0].custom_id!,
      user: BOB,
    });
    expect(textOf(ask)).toContain('Deny this approval?');
    expect(buttonsOf(ask).map((b) => b.label)).toEqual(['Deny', 'Back']);
    const result = await finalCard(thread, 'Deploy of web');
    expect(textOf(result).trim()).toMatch(/\nDeploy of web succeeded: rollout of web called off$/);
    const edit = await discord.waitForUpdate((u) => u.id === prompt.id, 10_000);
    expect(textOf(edit)).toMatch(
      /✋ Approval needed: Deploy to production\?\n❌ Denied by @bob · \d\d:\d\d UTC/,
    );
    expect(edit.components).toEqual([]);
    await expectDeniedByBob(squall().svc.services.apiUrl, id);
    if (target.kind === 'embedded')
      saveTranscript(
        'discord-approval',
        'An approval on Discord: the prompt, the card waiting, Deny from the card (confirmed in an ephemeral follow-up)',
        [
          { alice: '!deploy web' },
          shown('asks in the thread', prompt),
          shown('the card meanwhile', waiting),
          { bob: 'clicks Deny on the card' },
          shown('to bob only', ask),
          { bob: 'clicks Deny' },
          { squall: 'the prompt, edited (no buttons left)', text: textOf(edit).trim() },
          { squall: 'the card, final', text: textOf(discord.message(result.id)!).trim() },
        ],
      );
  }, 60_000);

  it('a typed answer that is refused goes to its author as a DM, not into the thread', async () => {
    const { thread, id } = await startDeploy('cache');
    const dmOf = (user: string) => discord.dmChannel(user).id;
    discord.userSays({ content: `!respond ${id} approved=yes`, channel: thread, user: CAROL });
    const refusal = await discord.waitForPost(
      (p) => p.channel_id === dmOf(CAROL) && textOf(p).includes('carol is not allowed to respond'),
      15_000,
    );
    expect(textOf(refusal)).toContain(id);
    discord.userSays({ content: `!respond ${id} approved=yes`, channel: thread, user: ALICE });
    await discord.waitForPost(
      (p) =>
        p.channel_id === dmOf(ALICE) &&
        textOf(p).includes('started this workflow and cannot also approve it'),
      15_000,
    );
    expect(
      discord.posts.items.filter(
        (p) => inThread(thread)(p) && /not allowed|cannot also approve/.test(textOf(p)),
      ),
    ).toEqual([]);
    expect(await inquiryOf(squall().svc.services.apiUrl, id)).toMatchObject({ status: 'pending' });
    // The approver's typed answer goes through.
    discord.userSays({ content: `!respond ${id} approved=yes`, channel: thread, user: BOB });
    await finalCard(thread, 'Deploy of cache succeeded');
  }, 60_000);

  it('Deny takes the failure branch, whose output is posted in the thread', async () => {
    const { thread, prompt, id } = await startDeploy('db');
    await click(prompt, 'Deny', BOB);
    const result = await finalCard(thread, 'Deploy of db');
    // Orquesta's status stays (the failure branch handled the denial: succeeded); the card says who denied.
    expect(textOf(result).trim()).toMatch(
      /^❌ e2echat\.deploy\n<@\d+>\n\[Execution \w+\]\([^)]+\) · succeeded · [^\n]+\n[\s\S]*❌ Denied by @bob · \d\d:\d\d UTC \(the workflow then ended succeeded\)\nDeploy of db succeeded: rollout of db called off$/,
    );
    expect((result.embeds[0] as { color: number }).color).toBe(0xe01e5a);
    const run = /Execution (\w+)/.exec(textOf(result))![1];
    expect((await squall().svc.services.store.executions.get(run))?.status).toBe('succeeded');
    // The channel sees it as not done: ❌ on the command.
    await waitFor(
      () =>
        JSON.stringify(discord.message(thread)?.reactions) ===
        JSON.stringify([{ emoji: { name: '❌' }, count: 1, me: true }]),
      'the ❌ reaction alone',
    );
    const edit = await discord.waitForUpdate((u) => u.id === prompt.id, 10_000);
    expect(textOf(edit)).toContain('❌ Denied by @bob · ');
    expect(edit.components).toEqual([]);
    expect((await squall().svc.services.store.executions.get(id))?.status).toBe('failed');
    expect(await inquiryOf(squall().svc.services.apiUrl, id)).toMatchObject({
      status: 'failed',
      response: { approved: false },
    });
  }, 60_000);
});
