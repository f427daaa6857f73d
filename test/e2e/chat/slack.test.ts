import { expect, it } from 'vitest';
import type { SlackEmulator } from '../../emulators/slack/index.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { useSlackSquall, type ChatSquall } from './harness.js';

const USERS = { 'slack:U0ALICE': 'alice', 'slack:U0BOB': 'mallory' };

for (const target of STORE_TARGETS) {
  describeWithServer(
    `Slack Socket Mode end to end (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let slack: SlackEmulator;
      let squall: ChatSquall;
      useSlackSquall(target, USERS, (sl, s) => {
        slack = sl;
        squall = s;
      });

      const inThread = (ts: string) => (p: { thread_ts?: string }) => p.thread_ts === ts;

      it('"!echo …" in a channel: ack in the thread, result in the thread, ack edited to succeeded', async () => {
        const ts = await slack.userSays({ text: '!echo hello world' });
        const ack = await slack.waitForPost((p) => inThread(ts)(p) && /execution/i.test(p.text), 10_000);
        expect(ack.channel).toBe(slack.defaultChannel);
        const result = await slack.waitForPost(
          (p) => inThread(ts)(p) && p.text.includes('said hello world'),
          15_000,
        );
        expect(result.blocks?.length).toBeGreaterThan(0);
        const edit = await slack.waitForUpdate(
          (u) => u.ts === ack.ts && u.text.includes('succeeded'),
          10_000,
        );
        expect(edit.channel).toBe(slack.defaultChannel);
        // The execution ran as the mapped Squall user.
        const audit = await squall.svc.services.store.audit.findOne({
          kind: 'chat.command',
          'user.id': 'U0ALICE',
        });
        expect(audit?.actor).toBe('alice');
      });

      it('the /squall slash command runs the alias and answers in a thread of its echo', async () => {
        const ack = await slack.slashCommand({ command: '/squall', text: 'echo from slash' });
        expect(ack.status).toBe(200);
        const root = await slack.waitForPost((p) => p.text.includes('ran /squall echo from slash'));
        await slack.waitForPost((p) => p.thread_ts === root.ts && p.text.includes('said from slash'), 15_000);
      });

      it('an output over 4,000 characters is uploaded as a file in the thread', async () => {
        const ts = await slack.userSays({ text: '!big output' });
        const upload = await slack.waitForUpload((u) => u.thread_ts === ts && u.completed, 15_000);
        expect(upload.data?.toString('utf8')).toContain('the-end');
        expect(upload.data!.length).toBeGreaterThan(4000);
      });

      it('ignores its own messages (the emulator echoes every bot post back)', async () => {
        const before = squall.svc.services.store.audit.find({ kind: 'chat.command' });
        const n = (await before).length;
        const ts = await slack.userSays({ text: '!echo loop check' });
        await slack.waitForPost((p) => p.thread_ts === ts && p.text.includes('said loop check'), 15_000);
        // Every bot post (ack, result, with "!" nowhere) came back as an event; only the person's command is audited.
        const after = await squall.svc.services.store.audit.find({ kind: 'chat.command' });
        expect(after.length).toBe(n + 1);
        expect(after.every((a) => (a.user as { id: string }).id !== slack.botUserId)).toBe(true);
      });

      it('answers a command it does not know, a user who may not run it, and a failing action clearly', async () => {
        // Mistakes and refusals are ephemeral: only the asker sees them, in the thread.
        const t1 = await slack.userSays({ text: '!frobnicate the widgets' });
        const none = await slack.waitForEphemeral((e) => e.thread_ts === t1);
        expect(none).toMatchObject({ user: 'U0ALICE', via: 'chat.postEphemeral' });
        expect(none.text).toMatch(/I don't know "frobnicate the widgets"[\s\S]*!help/);

        const t2 = await slack.userSays({ text: '!echo secret', user: 'U0BOB' });
        const denied = await slack.waitForEphemeral((e) => e.thread_ts === t2);
        expect(denied.user).toBe('U0BOB');
        expect(denied.text).toMatch(
          /not allowed to run e2echat\.echo: your Squall account "mallory" lacks "action_execute"/,
        );
        expect(slack.posts.items.filter((p) => p.thread_ts === t1 || p.thread_ts === t2)).toEqual([]);

        const t3 = await slack.userSays({ text: '!fail now' });
        // The result, not the "Execution … failed." line with Re-run (the two are posted in either order).
        const failed = await slack.waitForPost(
          (p) => p.thread_ts === t3 && p.text.includes('boom-on-stderr'),
          15_000,
        );
        expect(failed.text).toMatch(/failed/i);
      });

      it('the ack follows the run: running with the last output lines, then succeeded; Re-run starts it again', async () => {
        const ts = await slack.userSays({ text: '!ticker' });
        const ack = await slack.waitForPost((p) => inThread(ts)(p) && /execution/i.test(p.text), 10_000);
        const running = await slack.waitForUpdate(
          (u) => u.ts === ack.ts && u.text.includes('Status: running') && u.text.includes('tick-1'),
          10_000,
        );
        expect(running.text).not.toContain('ticked');
        await slack.waitForUpdate((u) => u.ts === ack.ts && u.text.includes('Status: succeeded'), 15_000);
        const cancel = await slack.waitForPost((p) => inThread(ts)(p) && p.text.includes('in progress'));
        expect(cancel.blocks?.some((b) => (b as { type: string }).type === 'actions')).toBe(true);
        const again = await slack.waitForPost(
          (p) => inThread(ts)(p) && p.text.includes('succeeded.') && Boolean(p.blocks?.length),
          10_000,
        );
        const click = await slack.clickButton({ message_ts: again.ts, action_id: 'squall:0' });
        expect(click.status).toBe(200);
        const rerun = await slack.waitForPost((p) => inThread(ts)(p) && p.text.includes('re-ran execution'));
        await slack.waitForUpdate((u) => u.ts === rerun.ts && u.text.includes('Status: succeeded'), 15_000);
        const audit = await squall.svc.services.store.audit.findOne({
          kind: 'chat.button',
          outcome: 'rerun',
        });
        expect(audit).toMatchObject({ actor: 'alice', adapter: 'slack', channel: slack.defaultChannel });
      }, 40_000);

      it('Cancel is refused to a user without execution_stop (audited) and cancels the run for one with it', async () => {
        const ts = await slack.userSays({ text: '!slow job' });
        const ack = await slack.waitForPost((p) => inThread(ts)(p) && /execution/i.test(p.text), 10_000);
        const controls = await slack.waitForPost(
          (p) => inThread(ts)(p) && p.text.includes('in progress'),
          10_000,
        );
        const id = /Execution (\w+)/.exec(controls.text)![1];
        await slack.waitForUpdate((u) => u.ts === ack.ts && u.text.includes('Status: running'), 10_000);

        await slack.clickButton({ message_ts: controls.ts, action_id: 'squall:0', user: 'U0BOB' });
        const refusal = await slack.waitForEphemeral((e) => /may not cancel/.test(String(e.text)), 10_000);
        expect(String(refusal.text)).toContain('execution_stop');
        const denied = await waitFor(
          () => squall.svc.services.store.audit.findOne({ kind: 'chat.button', outcome: 'forbidden' }),
          'the audit of the refused click',
        );
        expect(denied).toMatchObject({ actor: 'mallory', adapter: 'slack', what: `exec:cancel:${id}` });
        expect((await squall.svc.services.store.executions.get(id))?.status).toBe('running');

        await slack.clickButton({ message_ts: controls.ts, action_id: 'squall:0' });
        await waitFor(
          async () => (await squall.svc.services.store.executions.get(id))?.status === 'canceled',
          'the execution to be canceled',
          15_000,
        );
        await slack.waitForPost(
          (p) => inThread(ts)(p) && p.text.includes(`canceled execution ${id}`),
          10_000,
        );
        await slack.waitForUpdate((u) => u.ts === ack.ts && u.text.includes('Status: canceled'), 10_000);
        const done = await squall.svc.services.store.audit.findOne({
          kind: 'chat.button',
          outcome: 'canceled',
        });
        expect(done).toMatchObject({ actor: 'alice', execution_id: id });
      }, 40_000);

      it('a Socket Mode disconnect mid-conversation loses no command and posts no duplicate', async () => {
        const connections = slack.connectionCount;
        slack.disconnect('drop');
        const ts = await slack.userSays({ text: '!echo after reconnect' });
        await slack.waitForConnection(connections + 1);
        await slack.waitForPost((p) => p.thread_ts === ts && p.text.includes('said after reconnect'), 20_000);
        await waitFor(
          () => slack.updates.items.some((u) => slack.findMessage(u.channel, u.ts)?.thread_ts === ts),
          'the ack edit',
        );
        const results = slack.posts.items.filter(
          (p) => p.thread_ts === ts && p.text.includes('said after reconnect'),
        );
        expect(results).toHaveLength(1);
        const audits = await squall.svc.services.store.audit.find({
          kind: 'chat.command',
          text: 'echo after reconnect',
        });
        expect(audits).toHaveLength(1);
      }, 40_000);
    },
  );
}
