import { expect, it } from 'vitest';
import type { DiscordEmulator } from '../../emulators/discord/index.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { useDiscordSquall, type ChatSquall } from './harness.js';

const ALICE = '1200000000000000101';
const BOB = '1200000000000000102';
const USERS = { [`discord:${ALICE}`]: 'alice', [`discord:${BOB}`]: 'mallory' };

const textOf = (m: { content: string; embeds: unknown[] }) =>
  `${m.content}\n${(m.embeds as Array<{ description?: string }>).map((e) => e.description ?? '').join('\n')}`;

for (const target of STORE_TARGETS) {
  describeWithServer(
    `Discord end to end (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let discord: DiscordEmulator;
      let squall: ChatSquall;
      useDiscordSquall(target, USERS, (d, s) => {
        discord = d;
        squall = s;
      });

      /** Posts in the thread Discord starts from message `id` (the thread takes that id). */
      const inThread = (id: string) => (p: { channel_id: string }) => p.channel_id === id;

      it('"!echo …": ack in a thread from the command, result as an embed there, ack edited to succeeded', async () => {
        const id = discord.userSays({ content: '!echo hello discord' });
        const ack = await discord.waitForPost((p) => inThread(id)(p) && /execution/i.test(textOf(p)), 10_000);
        expect(discord.channel(id)?.parent_id).toBe(discord.defaultChannel);
        const result = await discord.waitForPost(
          (p) => inThread(id)(p) && textOf(p).includes('said hello discord'),
          15_000,
        );
        expect(result.embeds.length).toBe(1);
        await discord.waitForUpdate((u) => u.id === ack.id && textOf(u).includes('succeeded'), 10_000);
      });

      it('the /squall slash command is registered in the guild and answers in a thread of its reply', async () => {
        expect(discord.registeredCommands.map((c) => c.name)).toContain('squall');
        const cb = await discord.slashCommand({ name: 'squall', options: { command: 'echo from slash' } });
        expect(cb.type).toBe(4);
        const root = await discord.waitForPost((p) => p.content.includes('ran /squall echo from slash'));
        await discord.waitForPost(
          (p) => inThread(root.id)(p) && textOf(p).includes('said from slash'),
          15_000,
        );
      });

      it('an output over 4,000 characters is attached as a file in the thread', async () => {
        const id = discord.userSays({ content: '!big output' });
        const upload = await discord.waitForUpload((u) => u.channel_id === id, 15_000);
        expect(upload.data.toString('utf8')).toContain('the-end');
        expect(upload.data.length).toBeGreaterThan(4000);
      });

      it('ignores its own messages (the emulator echoes every bot post back)', async () => {
        const n = (await squall.svc.services.store.audit.find({ kind: 'chat.command' })).length;
        const id = discord.userSays({ content: '!echo loop check' });
        await discord.waitForPost((p) => inThread(id)(p) && textOf(p).includes('said loop check'), 15_000);
        const after = await squall.svc.services.store.audit.find({ kind: 'chat.command' });
        expect(after.length).toBe(n + 1);
      });

      it('answers an unknown command, a user who may not run it, and a failing action clearly', async () => {
        // A message command has no ephemeral reply on Discord: mistakes and refusals go by DM.
        const dmOf = (user: string) => (p: { channel_id: string }) =>
          p.channel_id === discord.dmChannel(user).id;
        const a = discord.userSays({ content: '!frobnicate the widgets' });
        expect(
          textOf(await discord.waitForPost((p) => dmOf(ALICE)(p) && /frobnicate/.test(textOf(p)))),
        ).toMatch(/I don't know "frobnicate the widgets"[\s\S]*!help/);
        const b = discord.userSays({ content: '!echo secret', user: BOB });
        expect(textOf(await discord.waitForPost(dmOf(BOB)))).toMatch(
          /not allowed to run e2echat\.echo: your Squall account "mallory" lacks "action_execute"/,
        );
        expect(discord.posts.items.filter((p) => inThread(a)(p) || inThread(b)(p))).toEqual([]);
        const c = discord.userSays({ content: '!fail now' });
        // The result, not the "Execution … failed." line with Re-run (the two are posted in either order).
        const failed = await discord.waitForPost(
          (p) => inThread(c)(p) && textOf(p).includes('boom-on-stderr'),
          15_000,
        );
        expect(textOf(failed)).toMatch(/failed/i);
      });

      const buttonOf = (m: { components: unknown[] }) =>
        (m.components as Array<{ components?: Array<{ custom_id?: string }> }>)[0]?.components?.[0]
          ?.custom_id ?? '';

      it('the ack follows the run: running with the last output lines, then succeeded; Re-run starts it again', async () => {
        const id = discord.userSays({ content: '!ticker' });
        const ack = await discord.waitForPost((p) => inThread(id)(p) && /execution/i.test(textOf(p)), 10_000);
        const running = await discord.waitForUpdate(
          (u) => u.id === ack.id && textOf(u).includes('Status: running') && textOf(u).includes('tick-1'),
          10_000,
        );
        expect(textOf(running)).not.toContain('ticked');
        await discord.waitForUpdate(
          (u) => u.id === ack.id && textOf(u).includes('Status: succeeded'),
          15_000,
        );
        const again = await discord.waitForPost(
          (p) => inThread(id)(p) && p.content.includes('succeeded.') && p.components.length > 0,
          10_000,
        );
        expect(buttonOf(again)).toContain('exec:rerun:');
        await discord.clickButton({ message_id: again.id, custom_id: buttonOf(again) });
        const rerun = await discord.waitForPost(
          (p) => inThread(id)(p) && p.content.includes('re-ran execution'),
        );
        await discord.waitForUpdate(
          (u) => u.id === rerun.id && textOf(u).includes('Status: succeeded'),
          15_000,
        );
      }, 40_000);

      it('Cancel is refused to a user without execution_stop (audited) and cancels the run for one with it', async () => {
        const id = discord.userSays({ content: '!slow job' });
        const ack = await discord.waitForPost((p) => inThread(id)(p) && /execution/i.test(textOf(p)), 10_000);
        const controls = await discord.waitForPost(
          (p) => inThread(id)(p) && p.content.includes('in progress'),
          10_000,
        );
        const execId = /Execution (\w+)/.exec(controls.content)![1];
        await discord.waitForUpdate((u) => u.id === ack.id && textOf(u).includes('Status: running'), 10_000);

        await discord.clickButton({ message_id: controls.id, custom_id: buttonOf(controls), user: BOB });
        // Only the presser sees the refusal: the ephemeral follow-up of their click.
        const refusal = await discord.waitForEphemeral(
          (p) => inThread(id)(p) && /may not cancel/.test(textOf(p)),
        );
        expect((refusal.interaction_metadata as { user: { id: string } }).user.id).toBe(BOB);
        const denied = await waitFor(
          () => squall.svc.services.store.audit.findOne({ kind: 'chat.button', outcome: 'forbidden' }),
          'the audit of the refused click',
        );
        expect(denied).toMatchObject({ actor: 'mallory', adapter: 'discord', what: `exec:cancel:${execId}` });
        expect((await squall.svc.services.store.executions.get(execId))?.status).toBe('running');

        await discord.clickButton({ message_id: controls.id, custom_id: buttonOf(controls) });
        await discord.waitForPost(
          (p) => inThread(id)(p) && p.content.includes(`canceled execution ${execId}`),
        );
        await discord.waitForUpdate((u) => u.id === ack.id && textOf(u).includes('Status: canceled'), 15_000);
        expect((await squall.svc.services.store.executions.get(execId))?.status).toBe('canceled');
      }, 40_000);

      it('a gateway drop mid-conversation loses no command and posts no duplicate', async () => {
        discord.disconnect();
        const id = discord.userSays({ content: '!echo after resume' });
        await discord.waitForPost((p) => inThread(id)(p) && textOf(p).includes('said after resume'), 20_000);
        expect(discord.gateway.items.some((g) => g.kind === 'resume')).toBe(true);
        const results = discord.posts.items.filter(
          (p) => inThread(id)(p) && textOf(p).includes('said after resume'),
        );
        expect(results).toHaveLength(1);
        const audits = await squall.svc.services.store.audit.find({
          kind: 'chat.command',
          text: 'echo after resume',
        });
        expect(audits).toHaveLength(1);
      }, 40_000);
    },
  );
}
