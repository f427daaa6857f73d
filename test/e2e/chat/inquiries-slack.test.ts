import { expect, it } from 'vitest';
import { PAYLOAD_PREFIX } from '../../../src/inquiries/index.js';
import type { SlackMessage } from '../../emulators/slack/types.js';
import { saveTranscript } from '../../support/transcripts.js';
import { waitFor } from '../../support/wait.js';
import { describeChat, useSlackSquall } from './harness.js';
import { expectApprovedByBob, expectDeniedByBob, inquiryOf } from './inquiry-checks.js';

// alice asks, bob approves, carol is a Squall user the deploy's ask does not list.
const USERS = { 'slack:U0ALICE': 'alice', 'slack:U0BOB': 'bob', 'slack:U0CAROL': 'carol' };
const APPROVE = 'squall:0';
const DENY = 'squall:1';

type Block = { type: string; block_id?: string };

describeChat(`Inquiries on Slack, end to end`, (target) => {
  const { slack, squall } = useSlackSquall(target, USERS);
  slack.addUser({ id: 'U0CAROL', name: 'carol' });

  /** The run's card once it shows `text` (posted final when the run was quick, else edited). */
  const finalCard = (ts: string, text: string) =>
    waitFor(
      () =>
        slack
          .thread(slack.defaultChannel, ts)
          .find((m) => m.user === slack.botUserId && m.text.includes(text)),
      'the final card',
      30_000,
    );
  const inThread = (ts: string) => (p: { thread_ts?: string }) => p.thread_ts === ts;
  const buttonsOf = (m: { blocks?: unknown[] }) =>
    ((m.blocks ?? []) as Block[]).filter((b) => b.type === 'actions');

  /** Starts "!deploy <service>" and returns the command's thread and the Approve/Deny prompt in it. */
  async function startDeploy(service: string): Promise<{ ts: string; prompt: SlackMessage; id: string }> {
    const ts = await slack.userSays({ text: `!deploy ${service}` });
    const prompt = await slack.waitForPost(
      (p) => inThread(ts)(p) && buttonsOf(p).some((b) => b.block_id?.includes(PAYLOAD_PREFIX)),
      20_000,
    );
    const id = /Inquiry (\w+)/.exec(prompt.text)![1];
    return { ts, prompt, id };
  }

  it('Approve: an outsider and the requester are refused privately, the approver resumes the workflow', async () => {
    const { ts, prompt, id } = await startDeploy('api');
    expect(prompt.channel).toBe(slack.defaultChannel);
    expect(prompt.text).toContain('Deploy to production?');
    const buttons = buttonsOf(prompt)[0] as unknown as { elements: Array<{ text: { text: string } }> };
    expect(buttons.elements.map((e) => e.text.text)).toEqual(['Approve', 'Deny']);

    // carol is not in the ask's users: refused, only she sees why, nothing changes.
    await slack.clickButton({ message_ts: prompt.ts, action_id: APPROVE, user: 'U0CAROL' });
    const toCarol = await slack.waitForEphemeral((e) => e.user === 'U0CAROL', 15_000);
    expect(toCarol).toMatchObject({ channel: slack.defaultChannel, thread_ts: ts });
    expect(toCarol.text).toContain('carol is not allowed to respond');
    expect(await inquiryOf(squall().svc.services.apiUrl, id)).toMatchObject({ status: 'pending' });

    // alice asked for the deploy: under different_from_requester she cannot approve it.
    await slack.clickButton({ message_ts: prompt.ts, action_id: APPROVE, user: 'U0ALICE' });
    const toAlice = await slack.waitForEphemeral((e) => e.user === 'U0ALICE', 15_000);
    expect(toAlice.thread_ts).toBe(ts);
    expect(toAlice.text).toContain('started this workflow and cannot also approve it');
    expect(await inquiryOf(squall().svc.services.apiUrl, id)).toMatchObject({ status: 'pending' });
    // Refusals are private: nobody else saw a post about them in the thread.
    expect(slack.posts.items.filter((p) => inThread(ts)(p) && /Sorry/.test(p.text))).toEqual([]);

    await slack.clickButton({ message_ts: prompt.ts, action_id: APPROVE, user: 'U0BOB' });
    const result = await finalCard(ts, '\nDeploy of api');
    expect(result.text).toMatch(
      /^✅ e2echat\.deploy · alice\n[\s\S]*\nDeploy of api succeeded: shipped api$/,
    );
    const edit = await slack.waitForUpdate((u) => u.ts === prompt.ts, 10_000);
    expect(edit.text).toMatch(/Deploy to production\?[\s\S]*\n✅ Approved by @bob · \d\d:\d\d UTC\s*$/);
    expect(buttonsOf(edit)).toEqual([]);
    expect(buttonsOf(slack.findMessage(slack.defaultChannel, prompt.ts)!)).toEqual([]);
    expect(await inquiryOf(squall().svc.services.apiUrl, id)).toMatchObject({
      status: 'succeeded',
      response: { approved: true },
      responded_by: 'bob',
    });

    await expectApprovedByBob(squall().svc.services.store, id, {
      adapter: 'slack',
      channel: slack.defaultChannel,
      thread: ts,
      bobId: 'U0BOB',
      refused: ['U0CAROL', 'U0ALICE'],
    });
  }, 60_000);

  it('Deny takes the failure branch, whose output is posted in the thread', async () => {
    const { ts, prompt, id } = await startDeploy('db');
    await slack.clickButton({ message_ts: prompt.ts, action_id: DENY, user: 'U0BOB', confirm: true });
    const result = await finalCard(ts, '\nDeploy of db');
    // Orquesta's status stays (the failure branch handled the denial: succeeded); the card says who denied.
    expect(result.text).toMatch(
      /^❌ e2echat\.deploy · alice\nExecution \w+ · succeeded · [^\n]+\n[\s\S]*❌ Denied by @bob · \d\d:\d\d UTC \(the workflow then ended succeeded\)\nDeploy of db succeeded: rollout of db called off$/,
    );
    expect(
      (await squall().svc.services.store.executions.get(/Execution (\w+)/.exec(result.text)![1]))?.status,
    ).toBe('succeeded');
    // The channel sees it as not done: ❌ on the command.
    await waitFor(
      () =>
        JSON.stringify(slack.findMessage(slack.defaultChannel, ts)?.reactions) ===
        JSON.stringify([{ name: 'x', users: [slack.botUserId], count: 1 }]),
      'the ❌ reaction alone',
    );
    const edit = await slack.waitForUpdate((u) => u.ts === prompt.ts, 10_000);
    expect(edit.text).toContain('❌ Denied by @bob · ');
    expect(buttonsOf(edit)).toEqual([]);
    const ask = await squall().svc.services.store.executions.get(id);
    expect(ask?.status).toBe('failed');
    expect(await inquiryOf(squall().svc.services.apiUrl, id)).toMatchObject({
      status: 'failed',
      response: { approved: false },
    });
  }, 60_000);

  it('the prompt names requester, approvers (mentioned) and expiry; the card waits for approval and its Deny ends the run', async () => {
    const { ts, prompt, id } = await startDeploy('web');
    expect(prompt.text).toMatch(
      new RegExp(
        '^✋ Approval needed: Deploy to production\\?\n' +
          'Requested by @alice · Approvers: @alice or @bob · expires in 24 h \\(\\d\\d:\\d\\d UTC\\)\n' +
          '\\(the requester cannot approve\\)\n' +
          `Inquiry ${id}\n` +
          'cc <@U0BOB>$',
      ),
    );
    // The mention is in a block too (mrkdwn, unescaped), so Slack notifies bob.
    expect(JSON.stringify(prompt.blocks)).toContain('"text":"cc <@U0BOB>"');
    const deny = (buttonsOf(prompt)[0] as unknown as { elements: Array<{ confirm?: unknown }> }).elements[1];
    expect(deny.confirm).toMatchObject({ title: { text: 'Deny?' }, confirm: { text: 'Deny' } });

    // The run's card: waiting for approval, with Deny (asks first), Cancel and Open.
    const isCard = (m: { user?: string; text: string }) =>
      m.user === slack.botUserId && /^\S+ e2echat\.deploy · alice\n/.test(m.text);
    const waiting = structuredClone(
      await waitFor(
        () =>
          slack
            .thread(slack.defaultChannel, ts)
            .find((m) => isCard(m) && m.text.includes('· waiting for approval ·')),
        'the card waiting for approval',
        15_000,
      ),
    );
    expect(waiting.text).toMatch(/^✋ e2echat\.deploy · alice\nExecution \w+ · waiting for approval · /);
    const cardButtons = (
      buttonsOf(waiting)[0] as unknown as {
        elements: Array<{
          action_id: string;
          text: { text: string };
          confirm?: { title: { text: string } };
        }>;
      }
    ).elements;
    expect(cardButtons.map((b) => b.text.text)).toEqual(['Deny', 'Cancel', 'Open']);
    expect(cardButtons[0].confirm?.title.text).toBe('Deny?');

    await slack.clickButton({
      message_ts: waiting.ts,
      action_id: 'squall:0',
      user: 'U0BOB',
      confirm: true,
    });
    const result = await finalCard(ts, '\nDeploy of web');
    // The ask failed (denied): the workflow took its failure branch, as Orquesta does.
    expect(result.text).toMatch(/\nDeploy of web succeeded: rollout of web called off$/);
    expect(result.text).not.toContain('waiting for approval');
    const edit = await slack.waitForUpdate((u) => u.ts === prompt.ts, 10_000);
    expect(edit.text).toMatch(
      /^✋ Approval needed: Deploy to production\?\n❌ Denied by @bob · \d\d:\d\d UTC$/,
    );
    await expectDeniedByBob(squall().svc.services.apiUrl, id);
    if (target.kind === 'embedded')
      saveTranscript(
        'slack-approval',
        'An approval on Slack: the prompt, the card waiting, Deny from the card',
        [
          { alice: '!deploy web' },
          { squall: 'asks in the thread', text: prompt.text, buttons: '[Approve] [Deny (asks first)]' },
          {
            squall: 'the card meanwhile',
            text: waiting.text,
            buttons: cardButtons.map((b) => `[${b.text.text}]`).join(' '),
          },
          { bob: 'clicks Deny on the card and confirms' },
          { squall: 'the prompt, edited (no buttons left)', text: edit.text },
          { squall: 'the card, final', text: slack.findMessage(slack.defaultChannel, result.ts)!.text },
        ],
      );
  }, 60_000);

  it('a form inquiry is answered with "!respond <id> key=value …" in the thread', async () => {
    const ts = await slack.userSays({ text: '!change request' });
    const prompt = await slack.waitForPost((p) => inThread(ts)(p) && p.text.includes('!respond'), 20_000);
    const id = /Inquiry (\w+)/.exec(prompt.text)![1];
    expect(prompt.text).toContain(`!respond ${id} reason=`);

    await slack.userSays({ text: `!respond ${id} hosts=many`, thread_ts: ts, user: 'U0BOB' });
    // A bad value is the asker's mistake: only they see the answer.
    const bad = await slack.waitForEphemeral((e) => e.thread_ts === ts && e.text.includes('"many"'), 15_000);
    expect(bad.user).toBe('U0BOB');
    expect(bad.text).toContain('is not an integer');
    await waitFor(
      async () => (await inquiryOf(squall().svc.services.apiUrl, id)).status === 'pending',
      'the inquiry to stay pending',
    );

    await slack.userSays({
      text: `!respond ${id} reason="disk full" hosts=3 urgent=yes regions=eu,us`,
      thread_ts: ts,
      user: 'U0BOB',
    });
    const thanks = await slack.waitForPost((p) => inThread(ts)(p) && p.text.startsWith('Thanks bob'), 15_000);
    expect(thanks.text).toContain(`inquiry ${id}`);
    const result = await finalCard(ts, '\nChange ');
    expect(result.text).toContain(
      '\nChange succeeded: {"hosts": 3,"reason": "disk full","regions": ["eu","us"],"urgent": true}',
    );
    const audit = await squall().svc.services.store.audit.findOne({
      kind: 'inquiry.decision',
      inquiry_id: id,
      outcome: 'accepted',
    });
    expect(audit).toMatchObject({ via: 'chat', adapter: 'slack', actor: 'bob', chat_user_id: 'U0BOB' });
  }, 60_000);
});
