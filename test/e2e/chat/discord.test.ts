import { expect, it } from 'vitest';
import { saveTranscript } from '../../support/transcripts.js';
import { waitFor } from '../../support/wait.js';
import { answer, pressAndConfirm, pressAsking } from './confirm.js';
import { describeChat, expectAuditedOnce, postThroughApi, useDiscordSquall } from './harness.js';

const ALICE = '1200000000000000101';
const BOB = '1200000000000000102';
const USERS = { [`discord:${ALICE}`]: 'alice', [`discord:${BOB}`]: 'mallory' };

const textOf = (m: { content: string; embeds: unknown[] }) =>
  `${m.content}\n${(m.embeds as Array<{ title?: string; description?: string }>)
    .map((e) => [e.title, e.description].filter(Boolean).join('\n'))
    .join('\n')}`;

describeChat(`Discord end to end`, (target) => {
  const { discord, squall } = useDiscordSquall(target, USERS);

  /** Posts in the thread Discord starts from message `id` (the thread takes that id). */
  const inThread = (id: string) => (p: { channel_id: string }) => p.channel_id === id;

  /** The card in the thread of command `id`, as it reads now (edits applied). */
  const cardOf = async (id: string) => {
    const post = await discord.waitForPost((p) => inThread(id)(p) && /Execution \w+/.test(textOf(p)), 10_000);
    return () => discord.message(post.id)!;
  };
  /** The command's reaction is `emoji` alone (⏳ gone, if it was there): the card is final by then. */
  const settled = (id: string, emoji: string) =>
    waitFor(
      () =>
        JSON.stringify(discord.message(id)?.reactions) ===
        JSON.stringify([{ emoji: { name: emoji }, count: 1, me: true }]),
      `the ${emoji} reaction alone`,
      20_000,
    );
  const buttons = (m: { components: unknown[] }) =>
    (
      m.components as Array<{
        components?: Array<{ custom_id?: string; label?: string; url?: string; disabled?: boolean }>;
      }>
    ).flatMap((r) => r.components ?? []);

  it('"!echo …" is one card in a thread from the command: 1 post, at most 1 edit, ⏳ then ✅', async () => {
    const earlier = { posts: discord.posts.items.length, ephemerals: discord.ephemerals.items.length };
    const id = discord.userSays({ content: '!echo hello discord' });
    const card = await cardOf(id);
    expect(discord.channel(id)?.parent_id).toBe(discord.defaultChannel);
    await settled(id, '✅');
    const final = card();
    expect(final.embeds).toHaveLength(1);
    const embed = final.embeds[0] as { title: string; description: string; color: number };
    expect(embed.title).toBe('✅ e2echat.echo');
    expect(embed.description).toMatch(
      new RegExp(
        `^<@${ALICE}>\\n\\[Execution \\w+\\]\\(http[^)]+\\) · succeeded · \\d+\\.\\d s\\n\`\`\`\\nsaid hello discord\\n\`\`\`$`,
      ),
    );
    expect(buttons(final).map((b) => b.label)).toEqual(['Re-run', 'Open']);
    expect(buttons(final)[1].url).toMatch(/#\/history\/\w+\/general$/);
    const posts = discord.posts.items.filter(inThread(id));
    expect(posts).toHaveLength(1);
    // Nothing else from the bot: the card is its only message (no ack, no result, no DM, no ephemeral).
    expect(discord.posts.items.slice(earlier.posts)).toHaveLength(1);
    expect(discord.ephemerals.items.slice(earlier.ephemerals)).toEqual([]);
    // A run that finished within 1 s costs at most one edit (a slower one: one per 2 s more).
    const run = (await squall().svc.services.store.executions.get(
      /Execution (\w+)/.exec(textOf(final))![1],
    ))!;
    const ms = Date.parse(run.end_timestamp!) - Date.parse(run.start_timestamp);
    expect(discord.updates.items.filter((u) => u.id === final.id).length).toBeLessThanOrEqual(
      1 + Math.floor(ms / 2000),
    );
    // A run that ends at once gets its final card and ✅ straight away; else ⏳ first.
    const seen = discord.reactions.items.filter((r) => r.message_id === id).map((r) => `${r.op} ${r.emoji}`);
    expect(['add ✅', 'add ⏳|add ✅|remove ⏳']).toContain(seen.join('|'));
  });

  it('the /squall slash command is registered in the guild and answers with a card in a thread of its reply', async () => {
    expect(discord.registeredCommands.map((c) => c.name)).toContain('squall');
    const cb = await discord.slashCommand({ name: 'squall', options: { command: 'echo from slash' } });
    expect(cb.type).toBe(4);
    const root = await discord.waitForPost((p) => p.content.includes('ran /squall echo from slash'));
    const card = await cardOf(root.id);
    await waitFor(
      () => textOf(card()).includes('said from slash') && textOf(card()).startsWith('\n✅'),
      'the final card',
    );
  });

  it('a 10,000-character output: the card stays within Discord’s limits and the whole output is attached as <action>-<id>.txt', async () => {
    const before = discord.calls.items.length;
    const id = discord.userSays({ content: '!big output' });
    const card = await cardOf(id);
    const upload = await discord.waitForUpload((u) => u.channel_id === id, 15_000);
    const execId = /Execution (\w+)/.exec(textOf(card()))![1];
    expect(upload.filename).toBe(`e2echat.big-${execId}.txt`);
    expect(upload.data.toString('utf8')).toBe(`${'x'.repeat(10_000)}\nthe-end`);
    await waitFor(() => textOf(card()).startsWith('\n✅'), 'the final card');
    expect(textOf(card())).toContain('the-end');
    // Nothing the bot sent was refused (Discord answers 400 50035 over 2000 characters of content,
    // 4096 of an embed's description, 6000 of all embeds).
    expect(discord.calls.items.slice(before).filter((c) => c.status >= 400)).toEqual([]);
  });

  it('ignores its own messages (the emulator echoes every bot post back)', async () => {
    const id = discord.userSays({ content: '!echo loop check' });
    await settled(id, '✅');
    await expectAuditedOnce(squall(), 'echo loop check', discord.botUserId);
  });

  it('answers an unknown command, a user who may not run it, and a failing action clearly', async () => {
    // A message command has no ephemeral reply on Discord: mistakes and refusals go by DM.
    const dmOf = (user: string) => (p: { channel_id: string }) => p.channel_id === discord.dmChannel(user).id;
    const a = discord.userSays({ content: '!frobnicate the widgets' });
    expect(textOf(await discord.waitForPost((p) => dmOf(ALICE)(p) && /frobnicate/.test(textOf(p))))).toMatch(
      /I don't know "frobnicate the widgets"[\s\S]*!help/,
    );
    const b = discord.userSays({ content: '!echo secret', user: BOB });
    expect(textOf(await discord.waitForPost(dmOf(BOB)))).toMatch(
      /not allowed to run e2echat\.echo: your Squall account "mallory" lacks "action_execute"/,
    );
    expect(discord.posts.items.filter((p) => inThread(a)(p) || inThread(b)(p))).toEqual([]);
    const c = discord.userSays({ content: '!fail now' });
    const card = await cardOf(c);
    await settled(c, '❌');
    expect(textOf(card())).toContain('❌ e2echat.fail');
    expect(textOf(card())).toContain('boom-on-stderr');
  });

  it('every error of a typed command goes to its asker as a DM (opened with POST /users/@me/channels), never to the channel', async () => {
    // A message command has no interaction to answer ephemerally: Discord's private channel is a DM.
    const dm = (user: string) => discord.dmChannel(user).id;
    const dmSays = (user: string, re: RegExp) =>
      discord.waitForPost((p) => p.channel_id === dm(user) && re.test(textOf(p)), 15_000);
    const commands: string[] = [];
    const earlier = discord.posts.items.length;
    const say = (content: string, user = ALICE) => {
      const id = discord.userSays({ content, user });
      commands.push(id);
      return id;
    };

    say('!frobnicate the gears');
    expect(textOf(await dmSays(ALICE, /frobnicate the gears/))).toMatch(
      /I don't know "frobnicate the gears"[\s\S]*!help/,
    );
    const ambiguous = say('!greet typed hello');
    const offer = await dmSays(ALICE, /"greet typed hello" matches more than one command/);
    expect(buttons(offer).map((b) => b.label)).toEqual(['!greet <words>', '!greet <cmd>']);
    // Only the DM's recipient can press its buttons.
    expect(() =>
      discord.clickButton({ message: offer, custom_id: buttons(offer)[0].custom_id!, user: BOB }),
    ).toThrow(/direct message/);
    say('!scale web');
    const missing = await dmSays(ALICE, /"scale web" is missing something/);
    expect(textOf(missing)).toContain('!scale <service> to <replicas>');
    expect(buttons(missing).map((b) => b.label)).toEqual(['Fill in…']);
    say('!scale web to many');
    expect(textOf(await dmSays(ALICE, /"many"/))).toMatch(
      /I couldn't use those parameters: Parameter "replicas" must be an integer[\s\S]*Usage: !scale <service> to <replicas>/,
    );
    say('!echo not for mallory', BOB);
    expect(textOf(await dmSays(BOB, /not allowed to run e2echat\.echo/))).toContain('"mallory"');

    // The bot opened each DM itself, as Discord requires, before writing to it.
    for (const user of [ALICE, BOB])
      expect(
        discord.calls.items.some(
          (c) =>
            c.method === 'POST' &&
            c.path === '/users/@me/channels' &&
            (c.body as { recipient_id?: string }).recipient_id === user &&
            c.status === 200,
        ),
      ).toBe(true);
    // Nothing in the channel, no thread from any of these commands, no ephemeral (there was no interaction).
    expect(
      discord.posts.items
        .slice(earlier)
        .filter((p) => p.channel_id === discord.defaultChannel || commands.includes(p.channel_id)),
    ).toEqual([]);
    for (const id of commands) expect(discord.channel(id)).toBeUndefined();

    // The choice pressed in the DM runs the command where it was typed.
    await discord.clickButton({ message: offer, custom_id: buttons(offer)[0].custom_id! });
    const card = await cardOf(ambiguous);
    await waitFor(() => /· succeeded ·/.test(textOf(card())), "the chosen command's card", 20_000);
    expect(textOf(card())).toContain('said typed hello');
  }, 60_000);

  it("a slash command's errors are ephemeral replies to its interaction: no match, missing and bad parameter, not permitted", async () => {
    const earlier = discord.posts.items.length;
    const cases: Array<{ command: string; user?: string; says: RegExp }> = [
      { command: 'frobnicate the bolts', says: /I don't know "frobnicate the bolts"[\s\S]*!help/ },
      { command: 'scale api', says: /"scale api" is missing something[\s\S]*!scale <service> to <replicas>/ },
      {
        command: 'scale api to heaps',
        says: /I couldn't use those parameters: Parameter "replicas" must be an integer/,
      },
      {
        command: 'echo slash for mallory',
        user: BOB,
        says: /not allowed to run e2echat\.echo: your Squall account "mallory" lacks "action_execute"/,
      },
    ];
    for (const c of cases) {
      const seen = discord.ephemerals.items.length;
      await discord.slashCommand({
        name: 'squall',
        options: { command: c.command },
        ...(c.user ? { user: c.user } : {}),
      });
      const reply = await discord.ephemerals.waitFor(
        (p) => discord.ephemerals.items.indexOf(p) >= seen && c.says.test(textOf(p)),
        15_000,
      );
      expect((reply.interaction_metadata as { user: { id: string } }).user.id).toBe(c.user ?? ALICE);
    }
    // The only public posts are the slash commands' own echoes ("<@…> ran /squall …").
    expect(
      discord.posts.items
        .slice(earlier)
        .filter((p) => !/ran \/squall /.test(p.content))
        .map(textOf),
    ).toEqual([]);
  });

  it('help shows {{app}} as <app> and a defaulted {{stage=staging}} as [stage]; "!ship" and "!ship web" get the usage and Fill in… by DM', async () => {
    const id = discord.userSays({ content: '!help ship' });
    const help = await discord.waitForPost(
      (p) =>
        (inThread(id)(p) || p.channel_id === discord.dmChannel(ALICE).id) && /Ship an app/.test(textOf(p)),
    );
    expect(textOf(help)).toContain('!ship <app> to [stage] - Ship an app');
    expect(textOf(help)).not.toMatch(/\{\{/);
    const dm = discord.dmChannel(ALICE).id;
    for (const command of ['ship', 'ship web']) {
      discord.userSays({ content: `!${command}` });
      const usage = await discord.waitForPost(
        (p) => p.channel_id === dm && textOf(p).includes(`"${command}" is missing something`),
        15_000,
      );
      expect(textOf(usage)).toContain('!ship <app> to [stage]');
      expect(buttons(usage).map((b) => b.label)).toEqual(['Fill in…']);
    }
  });

  it('an alias limited to channels runs in its channel and is refused privately elsewhere, naming where', async () => {
    // The emulator's second channel ("general") is the alias's war room.
    const warRoom = '1200000000000000011';
    const id = discord.userSays({ content: '!warroom all hands' });
    const refusal = await discord.waitForPost(
      (p) => p.channel_id === discord.dmChannel(ALICE).id && /warroom all hands/.test(textOf(p)),
      15_000,
    );
    expect(textOf(refusal).trim()).toBe(
      `"warroom all hands" can't be used here; it answers only in discord:${warRoom}. Say it there.`,
    );
    expect(discord.posts.items.filter(inThread(id))).toEqual([]);
    const there = discord.userSays({ content: '!warroom all hands', channel: warRoom });
    const card = await cardOf(there);
    await settled(there, '✅');
    expect(textOf(card())).toContain('said all hands');
  });

  it("an ambiguous command: one ephemeral with a button per alias, pressable by the asker only; the press posts that alias's card", async () => {
    await discord.slashCommand({ name: 'squall', options: { command: 'greet echo hi' } });
    const root = await discord.waitForPost((p) => p.content.includes('ran /squall greet echo hi'));
    const offer = await discord.waitForEphemeral((p) => /matches more than one command/.test(textOf(p)));
    expect(textOf(offer)).toMatch(/"greet echo hi" matches more than one command/);
    const choices = buttons(offer);
    expect(choices.map((b) => b.label)).toEqual(['!greet <words>', '!greet <cmd>']);
    expect(
      discord.ephemerals.items.filter((p) => /matches more than one command/.test(textOf(p))),
    ).toHaveLength(1);
    // Nothing in the guild (a typed command's DMs, earlier, are not in it).
    expect(discord.posts.items.filter((p) => p.guild_id && /matches more than one/.test(textOf(p)))).toEqual(
      [],
    );

    // Shown to Alice only: nobody else can press it.
    expect(() =>
      discord.clickButton({ message: offer, custom_id: choices[0].custom_id!, user: BOB }),
    ).toThrow(/shown only to/);

    await discord.clickButton({ message: offer, custom_id: choices[0].custom_id! });
    const card = await cardOf(root.id);
    await waitFor(() => /· succeeded ·/.test(textOf(card())), 'the final card', 20_000);
    expect(textOf(card())).toMatch(/^\n✅ e2echat\.echo\n[\s\S]*said echo hi/);
    const run = (await squall().svc.services.store.executions.get(
      /Execution (\w+)/.exec(textOf(card()))![1],
    ))!;
    expect(run.context?.user).toBe('alice');
    expect(run.context?.action_alias_ref).toBe('e2echat.greet');
  });

  it('the card follows the run: running with the last output lines, then succeeded; Re-run starts it once', async () => {
    const id = discord.userSays({ content: '!ticker' });
    const card = await cardOf(id);
    const ack = card();
    const first = structuredClone(ack);
    const running = await discord.waitForUpdate(
      (u) => u.id === ack.id && textOf(u).includes('· running ·') && textOf(u).includes('tick-1'),
      10_000,
    );
    expect(textOf(running)).not.toContain('ticked');
    expect(buttons(running).map((b) => b.label)).toEqual(['Cancel', 'Open']);
    await settled(id, '✅');
    // Edits of one card are sent at least 2 s apart (seen here on arrival: some slack for latency).
    const editedAt = discord.updates.items
      .filter((u) => u.id === ack.id)
      .map((u) => Date.parse(String(u.message.edited_timestamp)));
    for (let i = 1; i < editedAt.length; i++)
      expect(editedAt[i] - editedAt[i - 1]).toBeGreaterThanOrEqual(1500);
    const rerun = buttons(card())[0];
    expect(rerun.custom_id).toContain('exec:rerun:');
    // Re-run asks first (an ephemeral "are you sure?", Discord has no confirm dialog); Keep does nothing.
    const press = { message_id: ack.id, custom_id: rerun.custom_id! };
    const kept = await pressAsking(discord, press);
    expect(textOf(kept)).toContain('Run e2echat.ticker again with the same parameters?');
    expect(buttons(kept).map((b) => b.label)).toEqual(['Re-run', 'Not now']);
    await answer(discord, kept, 'keep');
    await waitFor(() => textOf(discord.message(kept.id)!).includes('Kept'), 'the kept follow-up');
    expect(discord.message(kept.id)!.components).toEqual([]);
    // A double click: both confirmations reach the bot before it greys the button out.
    const asks = [await pressAsking(discord, press), await pressAsking(discord, press)];
    await Promise.all(asks.map((ask) => answer(discord, ask, 'confirm')));
    await discord.waitForEphemeral((p) => inThread(id)(p) && /already re-run/.test(textOf(p)));
    await waitFor(() => buttons(card())[0].disabled, 'the Re-run button greyed out');
    expect(buttons(card())[0].label).toBe('Re-run by alice');
    const greyed = buttons(card())[0].custom_id!;
    expect(() => discord.clickButton({ message_id: ack.id, custom_id: greyed })).toThrow(/disabled/);
    const second = await discord.waitForPost(
      (p) => inThread(id)(p) && p.id !== ack.id && textOf(p).includes('e2echat.ticker'),
    );
    await waitFor(
      () => textOf(discord.message(second.id)!).includes('✅'),
      'the re-run card to succeed',
      15_000,
    );
    const reruns = await squall().svc.services.store.audit.find({ kind: 'chat.button', outcome: 'rerun' });
    expect(reruns).toHaveLength(1);
    if (target.kind === 'embedded') {
      const shown = (m: { content: string; embeds: unknown[]; components: unknown[] }) => ({
        embed: textOf(m).trim(),
        buttons: buttons(m).map(
          (b) => `${b.label}${b.url ? ' (link)' : ''}${b.disabled ? ' (disabled)' : ''}`,
        ),
      });
      const finalEdit = discord.updates.items.filter((u) => u.id === ack.id && textOf(u).includes('✅'))[0];
      saveTranscript(
        'discord-card',
        'One command, one card on Discord: an embed edited as it runs, final, re-run once',
        [
          { alice: '!ticker' },
          { squall: 'posts the card in a thread from the command', ...shown(first) },
          { squall: 'edits it (at most once per 2 s)', ...shown(running) },
          { squall: 'final state', ...shown(finalEdit) },
          {
            squall: 'reactions on the command',
            reactions: discord.reactions.items
              .filter((r) => r.message_id === id)
              .map((r) => `${r.op} ${r.emoji}`),
          },
          { alice: 'clicks Re-run twice' },
          { squall: 'the card after the click', ...shown(card()) },
          {
            squall: 'posts the card of the re-run',
            embed: textOf(discord.message(second.id)!).trim().split('\n')[0],
          },
        ],
      );
    }
  }, 40_000);

  it('a burst of results posted to one channel (sdk.chat.postMessage) all arrive, in order, each once, within Discord’s 5 per 5 s', async () => {
    const before = discord.calls.items.length;
    const post = async (message: string) => {
      const res = await postThroughApi(squall(), 'discord', discord.defaultChannel, message);
      expect(res.status, await res.clone().text()).toBe(201);
    };
    const inOrder = Array.from({ length: 8 }, (_, i) => `result ${i + 1} of the burst`);
    for (const message of inOrder) await post(message);
    // And some at once, as parallel branches of a workflow would post them.
    const atOnce = Array.from({ length: 4 }, (_, i) => `parallel result ${i + 1}`);
    await Promise.all(atOnce.map(post));

    const shown = discord.channelMessages(discord.defaultChannel).map((m) => textOf(m).trim());
    expect(shown.filter((t) => t.endsWith('of the burst'))).toEqual(inOrder);
    expect(shown.filter((t) => t.startsWith('parallel result')).sort()).toEqual(atOnce);
    // Twelve posts are over Discord's 5 per 5 s for a channel: discord.js waited for the bucket
    // (X-RateLimit-*) and every post was accepted once.
    const sends = discord.calls.items
      .slice(before)
      .filter((c) => c.method === 'POST' && c.path === `/channels/${discord.defaultChannel}/messages`);
    expect(sends.filter((c) => c.status === 200)).toHaveLength(12);
    expect(sends.filter((c) => c.status !== 200 && c.status !== 429)).toEqual([]);
  }, 60_000);

  it('a post Discord refuses (403 Missing Permissions, 50013) is answered 403 naming it; the bot posts on elsewhere', async () => {
    const post = (channel: string, message: string) => postThroughApi(squall(), 'discord', channel, message);
    discord.setBotAccess('1200000000000000011', 'read');
    try {
      const refused = await post('1200000000000000011', 'into a read-only channel');
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ faultstring: 'Missing Permissions' });
    } finally {
      discord.setBotAccess('1200000000000000011', 'full');
    }
    const ok = await post(discord.defaultChannel, 'after the refusal');
    expect(ok.status).toBe(201);
    await discord.waitForPost((p) => p.content === 'after the refusal');
  });

  it('Cancel is refused to a user without execution_stop (audited) and cancels the run for one with it', async () => {
    const id = discord.userSays({ content: '!slow job' });
    const card = await cardOf(id);
    const ack = card();
    const execId = /Execution (\w+)/.exec(textOf(ack))![1];
    await discord.waitForUpdate((u) => u.id === ack.id && textOf(u).includes('· running ·'), 10_000);
    const cancel = buttons(card())[0];
    expect(cancel.label).toBe('Cancel');

    const asked = await pressAndConfirm(discord, {
      message_id: ack.id,
      custom_id: cancel.custom_id!,
      user: BOB,
    });
    expect(textOf(asked)).toContain('Cancel this run?');
    // Only the presser sees the refusal: the ephemeral follow-up of their click.
    const refusal = await discord.waitForEphemeral(
      (p) => inThread(id)(p) && /may not cancel/.test(textOf(p)),
    );
    expect((refusal.interaction_metadata as { user: { id: string } }).user.id).toBe(BOB);
    const denied = await waitFor(
      () => squall().svc.services.store.audit.findOne({ kind: 'chat.button', outcome: 'forbidden' }),
      'the audit of the refused click',
    );
    expect(denied).toMatchObject({ actor: 'mallory', adapter: 'discord', what: `exec:cancel:${execId}` });
    expect((await squall().svc.services.store.executions.get(execId))?.status).toBe('running');

    await pressAndConfirm(discord, { message_id: ack.id, custom_id: cancel.custom_id! });
    await settled(id, '❌');
    expect(textOf(card())).toContain('🚫 e2echat.slow');
    expect(textOf(card())).toContain('Canceled by alice.');
    expect((await squall().svc.services.store.executions.get(execId))?.status).toBe('canceled');
  }, 40_000);

  it('a long private message goes as several DMs, never as a file in the channel', async () => {
    const long = Array.from({ length: 400 }, (_, i) => `row ${i} of a long answer`).join('\n');
    expect(long.length).toBeGreaterThan(4096);
    const dm = discord.dmChannel(ALICE).id;
    const postsBefore = discord.posts.items.length;
    const uploadsBefore = discord.uploads.items.length;
    const res = await fetch(`${squall().svc.url}/api/v1/chatops/message`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        adapter: 'discord',
        channel: discord.defaultChannel,
        message: `private ${long}`,
        user: ALICE,
        whisper: true,
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const parts = discord.posts.items.slice(postsBefore);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p.channel_id === dm)).toBe(true);
    const partText = (p: { content: string; embeds: unknown[] }) =>
      p.content || (p.embeds as Array<{ description?: string }>)[0]?.description || '';
    expect(parts.map(partText).join('')).toBe(`private ${long}`);
    expect(discord.uploads.items.length).toBe(uploadsBefore);
  });

  it('a gateway drop mid-conversation loses no command and posts no duplicate', async () => {
    discord.disconnect();
    const id = discord.userSays({ content: '!echo after resume' });
    await settled(id, '✅');
    expect(discord.gateway.items.some((g) => g.kind === 'resume')).toBe(true);
    const posts = discord.posts.items.filter(inThread(id));
    expect(posts).toHaveLength(1);
    expect(textOf(discord.message(posts[0].id)!)).toContain('said after resume');
    // The pipeline writes the audit after the reply is posted: wait for it, then count.
    const audits = await waitFor(async () => {
      const found = await squall().svc.services.store.audit.find({
        kind: 'chat.command',
        text: 'echo after resume',
      });
      return found.length > 0 ? found : null;
    }, 'the audit of the command');
    expect(audits).toHaveLength(1);
  }, 40_000);
});
