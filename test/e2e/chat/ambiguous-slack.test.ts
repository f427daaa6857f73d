import { expect, it } from 'vitest';
import type { SlackEmulator } from '../../emulators/slack/index.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { useSlackSquall, type ChatSquall } from './harness.js';

const USERS = { 'slack:U0ALICE': 'alice', 'slack:U0BOB': 'mallory' };

/** The buttons of a message as `action_id=label`. */
const buttonsOf = (m: { blocks?: unknown[] }) =>
  (m.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; text?: { text: string } }> }>)
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .map((e) => `${e.action_id}=${e.text?.text}`);

for (const target of STORE_TARGETS) {
  describeWithServer(
    `Slack: an ambiguous command offers one button per alias (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let slack: SlackEmulator;
      let squall: ChatSquall;
      useSlackSquall(target, USERS, (sl, s) => {
        slack = sl;
        squall = s;
      });

      it('one private reply with a button per candidate; the press runs that alias once, for the asker only', async () => {
        const ts = await slack.userSays({ text: '!greet echo hi' });
        const offer = await slack.waitForEphemeral((e) => e.thread_ts === ts);
        expect(offer).toMatchObject({ user: 'U0ALICE', via: 'chat.postEphemeral' });
        expect(offer.text).toMatch(/"greet echo hi" matches more than one command/);
        expect(buttonsOf(offer)).toEqual(['squall:0=!greet <words>', 'squall:1=!greet <cmd>']);
        expect(slack.ephemerals.items.filter((e) => e.thread_ts === ts)).toHaveLength(1);
        expect(slack.posts.items.filter((p) => p.thread_ts === ts || p.ts === ts)).toEqual([]);

        // A press by anyone else (Slack shows the buttons to Alice only; a replayed press) runs nothing.
        await slack.clickEphemeralButton({ ephemeral: { ...offer, user: 'U0BOB' }, action_id: 'squall:1' });
        const refused = await slack.waitForEphemeral((e) => e.user === 'U0BOB' && e.thread_ts === ts);
        expect(refused.text).toMatch(/Only U?\w+ can choose here/);

        await slack.clickEphemeralButton({ ephemeral: offer, action_id: 'squall:1' });
        const post = await slack.waitForPost(
          (p) => p.thread_ts === ts && /Execution \w+/.test(p.text),
          10_000,
        );
        const card = () => slack.findMessage(post.channel, post.ts)!;
        await waitFor(() => /· succeeded ·/.test(card().text), 'the final card', 20_000);
        expect(card().text).toMatch(/^✅ core\.local · alice\nExecution \w+ · succeeded[\s\S]*\nhi\n/);
        const run = (await squall.svc.services.store.executions.get(
          /Execution (\w+)/.exec(card().text)![1],
        ))!;
        expect(run.context?.user).toBe('alice');
        expect(run.context?.action_alias_ref).toBe('e2echat.greet_shell');
        expect(run.parameters).toMatchObject({ cmd: 'echo hi' });

        // The choice is made: pressing again runs nothing.
        await slack.clickEphemeralButton({ ephemeral: offer, action_id: 'squall:0' });
        await slack.waitForEphemeral((e) => e.thread_ts === ts && /expired/.test(e.text));
        const runs = await squall.svc.services.store.executions.find({});
        expect(
          runs.filter((r) => String(r.context?.action_alias_ref ?? '').startsWith('e2echat.greet')),
        ).toHaveLength(1);
      });
    },
  );
}
