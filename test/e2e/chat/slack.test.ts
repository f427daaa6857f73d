import { expect, it } from 'vitest';
import { saveTranscript } from '../../support/transcripts.js';
import { waitFor } from '../../support/wait.js';
import { describeChat, expectAuditedOnce, postThroughApi, useSlackSquall } from './harness.js';

const USERS = { 'slack:U0ALICE': 'alice', 'slack:U0BOB': 'mallory' };

describeChat(`Slack Socket Mode end to end`, (target) => {
  const { slack, squall } = useSlackSquall(target, USERS);

  const inThread = (ts: string) => (p: { thread_ts?: string }) => p.thread_ts === ts;
  /** The card in the thread of command `ts`, as it reads now (edits applied). */
  const cardOf = async (ts: string) => {
    const post = await slack.waitForPost((p) => inThread(ts)(p) && /Execution \w+/.test(p.text), 10_000);
    return () => slack.findMessage(post.channel, post.ts)!;
  };
  /** The command's reaction is `name` alone (⏳ gone, if it was there): the card is final by then. */
  const settled = (ts: string, name: string, timeoutMs = 20_000) =>
    waitFor(
      () =>
        JSON.stringify(slack.findMessage(slack.defaultChannel, ts)?.reactions) ===
        JSON.stringify([{ name, users: [slack.botUserId], count: 1 }]),
      `the ${name} reaction alone`,
      timeoutMs,
    );
  /** The Block Kit confirm dialog of the button `actionId` of `m`, if it has one. */
  const confirmOf = (m: { blocks?: unknown[] }, actionId: string) =>
    (m.blocks as Array<{ type: string; elements?: Array<{ action_id?: string; confirm?: unknown }> }>)
      .filter((b) => b.type === 'actions')
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === actionId)?.confirm;
  const buttonIds = (m: { blocks?: unknown[] }) =>
    (
      m.blocks as Array<{
        type: string;
        elements?: Array<{ action_id?: string; text?: { text: string } }>;
      }>
    )
      .filter((b) => b.type === 'actions')
      .flatMap((b) => b.elements ?? [])
      .map((e) => `${e.action_id}=${e.text?.text}`);

  it('"!echo …" is one card in the thread: 1 post, at most 1 edit, ⏳ then ✅ on the command', async () => {
    const before = slack.calls.items.length;
    const ts = await slack.userSays({ text: '!echo hello world' });
    const card = await cardOf(ts);
    await settled(ts, 'white_check_mark');
    const final = card();
    expect(final.text).toMatch(
      /^✅ e2echat\.echo · alice\nExecution \w+ · succeeded · \d+\.\d s\n```\nsaid hello world\n```$/,
    );
    expect(buttonIds(final)).toEqual(['squall:0=Re-run', 'squall-open:1=Open']);
    // One post and at most one edit; the reaction went ⏳ → ✅.
    const writes = slack.calls.items.filter(
      (c) =>
        (c.method === 'chat.postMessage' && c.params.thread_ts === ts) ||
        (c.method === 'chat.update' && c.params.ts === final.ts),
    );
    expect(writes.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    // Nothing else from the bot: the card is its only message (no ack, no result, no ephemeral).
    const all = slack.calls.items.slice(before);
    expect(all.filter((c) => /^chat\.post|^files\./.test(c.method)).map((c) => c.method)).toEqual([
      'chat.postMessage',
    ]);
    // Within Slack's rate limits (the emulator answers 429 beyond them): none was hit.
    expect(slack.calls.items.filter((c) => c.status === 429)).toEqual([]);
    // A run that finished within 1 s costs at most one edit (a slower one: one per 2 s more).
    const run = (await squall().svc.services.store.executions.get(/Execution (\w+)/.exec(final.text)![1]))!;
    const ms = Date.parse(run.end_timestamp!) - Date.parse(run.start_timestamp);
    expect(writes.filter((c) => c.method === 'chat.update').length).toBeLessThanOrEqual(
      1 + Math.floor(ms / 2000),
    );
    // A run that ends at once gets its final card and ✅ straight away; else ⏳ first.
    const seen = slack.reactions.items.filter((r) => r.ts === ts).map((r) => `${r.op} ${r.name}`);
    expect([
      'add white_check_mark',
      'add hourglass_flowing_sand|add white_check_mark|remove hourglass_flowing_sand',
    ]).toContain(seen.join('|'));
    // The execution ran as the mapped Squall user.
    const audit = await waitFor(
      () => squall().svc.services.store.audit.findOne({ kind: 'chat.command', text: 'echo hello world' }),
      'the audit of the command',
    );
    expect(audit.actor).toBe('alice');
  });

  it('each mistake goes only to its asker (chat.postEphemeral) and says what to do: no match, ambiguous, missing and bad parameter, not permitted', async () => {
    const before = slack.calls.items.length;
    const cases: Array<{ text: string; user?: string; says: RegExp }> = [
      { text: '!frobnicate the gears', says: /I don't know "frobnicate the gears"[\s\S]*!help/ },
      { text: '!greet typed hello', says: /"greet typed hello" matches more than one command/ },
      { text: '!scale web', says: /"scale web" is missing something[\s\S]*!scale <service> to <replicas>/ },
      {
        text: '!scale web to many',
        says: /I couldn't use those parameters: Parameter "replicas" must be an integer[\s\S]*Usage: !scale <service> to <replicas>/,
      },
      {
        text: '!echo not for mallory',
        user: 'U0BOB',
        says: /not allowed to run e2echat\.echo: your Squall account "mallory" lacks "action_execute"/,
      },
    ];
    for (const c of cases) {
      const ts = await slack.userSays({ text: c.text, ...(c.user ? { user: c.user } : {}) });
      const reply = await slack.waitForEphemeral((e) => e.thread_ts === ts, 15_000);
      expect(reply).toMatchObject({ user: c.user ?? 'U0ALICE', via: 'chat.postEphemeral' });
      expect(reply.text).toMatch(c.says);
      expect(slack.ephemerals.items.filter((e) => e.thread_ts === ts)).toHaveLength(1);
    }
    // Nothing anyone else sees: no post, no edit, no reaction, no file.
    expect(
      slack.calls.items
        .slice(before)
        .filter((c) => /^(chat\.postMessage|chat\.update|reactions\.|files\.)/.test(c.method)),
    ).toEqual([]);
    expect(await squall().svc.services.store.executions.count({ 'context.user': 'mallory' })).toBe(0);
  });

  it('help shows {{app}} as <app> and a defaulted {{stage=staging}} as [stage]; "!ship" and "!ship web" get the usage and Fill in…, privately', async () => {
    const ts = await slack.userSays({ text: '!help ship' });
    const help = await waitFor(
      () =>
        [...slack.posts.items, ...slack.ephemerals.items].find(
          (p) => p.thread_ts === ts && /ship/.test(p.text),
        ),
      'the help reply',
    );
    expect(help.text).toContain('!ship <app> to [stage] - Ship an app');
    expect(help.text).not.toMatch(/\{\{/);
    const bare = await slack.userSays({ text: '!ship' });
    const usage = await slack.waitForEphemeral((e) => e.thread_ts === bare, 15_000);
    expect(usage.user).toBe('U0ALICE');
    expect(usage.text).toMatch(/is missing something[\s\S]*!ship <app> to \[stage\]/);
    expect(buttonIds(usage)).toEqual(['squall:0=Fill in…']);
    // Only the defaulted trailing parameter left out: the usage and the form too, never "I don't know".
    const web = await slack.userSays({ text: '!ship web' });
    const usage2 = await slack.waitForEphemeral((e) => e.thread_ts === web, 15_000);
    expect(usage2.text).toMatch(/"ship web" is missing something[\s\S]*!ship <app> to \[stage\]/);
    expect(buttonIds(usage2)).toEqual(['squall:0=Fill in…']);
    expect(slack.posts.items.filter((p) => inThread(bare)(p) || inThread(web)(p))).toEqual([]);
  });

  it('an alias limited to channels runs in its channel and is refused privately elsewhere, naming where', async () => {
    slack.addChannel({ id: 'C0WAR', name: 'war-room' });
    const ts = await slack.userSays({ text: '!warroom all hands' });
    const refusal = await slack.waitForEphemeral((e) => e.thread_ts === ts, 15_000);
    expect(refusal).toMatchObject({ user: 'U0ALICE', via: 'chat.postEphemeral' });
    // Only this platform's channels are named.
    expect(refusal.text).toBe(
      `"warroom all hands" can't be used here; it answers only in slack:C0WAR. Say it there.`,
    );
    expect(slack.posts.items.filter(inThread(ts))).toEqual([]);
    const there = await slack.userSays({ text: '!warroom all hands', channel: 'C0WAR' });
    const post = await slack.waitForPost((p) => inThread(there)(p) && /Execution \w+/.test(p.text), 10_000);
    await waitFor(
      () => /· succeeded ·/.test(slack.findMessage('C0WAR', post.ts)!.text),
      'the card in the war room',
      20_000,
    );
    expect(slack.findMessage('C0WAR', post.ts)!.text).toContain('said all hands');
  });

  it('the /squall slash command runs the alias and answers with a card in a thread of its echo', async () => {
    const ack = await slack.slashCommand({ command: '/squall', text: 'echo from slash' });
    expect(ack.status).toBe(200);
    const root = await slack.waitForPost((p) => p.text.includes('ran /squall echo from slash'));
    const card = await cardOf(root.ts);
    await waitFor(
      () => card().text.includes('said from slash') && card().text.startsWith('✅'),
      'the final card',
    );
  });

  it('a 10,000-character output: the card stays within Slack’s block limits and the whole output is uploaded as <action>-<id>.txt', async () => {
    const before = slack.calls.items.length;
    const ts = await slack.userSays({ text: '!big output' });
    const card = await cardOf(ts);
    const upload = await slack.waitForUpload((u) => u.thread_ts === ts && u.completed, 15_000);
    const id = /Execution (\w+)/.exec(card().text)![1];
    expect(upload.filename).toBe(`e2echat.big-${id}.txt`);
    expect(upload.data!.toString('utf8')).toBe(`${'x'.repeat(10_000)}\nthe-end`);
    await settled(ts, 'white_check_mark');
    expect(card().text).toContain('the-end');
    // Nothing the bot sent was refused (Slack answers invalid_blocks over 3,000 characters in a
    // section, msg_too_long over 40,000 of text).
    expect(
      slack.calls.items
        .slice(before)
        .filter((c) => (c.response as { ok?: boolean }).ok !== true && c.status === 200),
    ).toEqual([]);
  });

  it('ignores its own messages (the emulator echoes every bot post back)', async () => {
    const ts = await slack.userSays({ text: '!echo loop check' });
    await settled(ts, 'white_check_mark');
    await expectAuditedOnce(squall(), 'echo loop check', slack.botUserId);
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
    const card = await cardOf(t3);
    await settled(t3, 'x');
    expect(card().text).toMatch(/^❌ e2echat\.fail · alice\nExecution \w+ · failed/);
    expect(card().text).toContain('boom-on-stderr');
  });

  it('an ambiguous command: one private reply with a button per candidate; the press runs that alias once, for the asker only', async () => {
    const ts = await slack.userSays({ text: '!greet echo hi' });
    const offer = await slack.waitForEphemeral((e) => e.thread_ts === ts);
    expect(offer).toMatchObject({ user: 'U0ALICE', via: 'chat.postEphemeral' });
    expect(offer.text).toMatch(/"greet echo hi" matches more than one command/);
    expect(buttonIds(offer)).toEqual(['squall:0=!greet <words>', 'squall:1=!greet <cmd>']);
    expect(slack.ephemerals.items.filter((e) => e.thread_ts === ts)).toHaveLength(1);
    expect(slack.posts.items.filter((p) => p.thread_ts === ts || p.ts === ts)).toEqual([]);

    // A press by anyone else (Slack shows the buttons to Alice only; a replayed press) runs nothing.
    await slack.clickEphemeralButton({ ephemeral: { ...offer, user: 'U0BOB' }, action_id: 'squall:1' });
    const refused = await slack.waitForEphemeral((e) => e.user === 'U0BOB' && e.thread_ts === ts);
    expect(refused.text).toMatch(/Only U?\w+ can choose here/);

    await slack.clickEphemeralButton({ ephemeral: offer, action_id: 'squall:1' });
    const post = await slack.waitForPost((p) => p.thread_ts === ts && /Execution \w+/.test(p.text), 10_000);
    const card = () => slack.findMessage(post.channel, post.ts)!;
    await waitFor(() => /· succeeded ·/.test(card().text), 'the final card', 20_000);
    expect(card().text).toMatch(/^✅ core\.local · alice\nExecution \w+ · succeeded[\s\S]*\nhi\n/);
    const run = (await squall().svc.services.store.executions.get(/Execution (\w+)/.exec(card().text)![1]))!;
    expect(run.context?.user).toBe('alice');
    expect(run.context?.action_alias_ref).toBe('e2echat.greet_shell');
    expect(run.parameters).toMatchObject({ cmd: 'echo hi' });

    // The choice is made: pressing again runs nothing.
    await slack.clickEphemeralButton({ ephemeral: offer, action_id: 'squall:0' });
    await slack.waitForEphemeral((e) => e.thread_ts === ts && /expired/.test(e.text));
    const runs = await squall().svc.services.store.executions.find({});
    expect(
      runs.filter((r) => String(r.context?.action_alias_ref ?? '').startsWith('e2echat.greet')),
    ).toHaveLength(1);
  });
  it('the card follows the run: running with the last output lines, then succeeded; Re-run starts it once', async () => {
    const ts = await slack.userSays({ text: '!ticker' });
    const card = await cardOf(ts);
    const ack = card();
    const first = structuredClone(ack);
    const running = await slack.waitForUpdate(
      (u) => u.ts === ack.ts && u.text.includes('· running ·') && u.text.includes('tick-1'),
      10_000,
    );
    expect(running.text).not.toContain('ticked');
    expect(buttonIds(running)).toEqual(['squall:0=Cancel', 'squall-open:1=Open']);
    await settled(ts, 'white_check_mark');
    const edits = slack.updates.items.filter((u) => u.ts === ack.ts);
    // Edits of one card are sent at least 2 s apart (the run takes ~3 s: a handful at most); seen
    // here when they arrive, so allow for a slow request followed by a quick one.
    expect(edits.length).toBeLessThanOrEqual(3);
    const editedAt = edits.map((u) => Number((u.message.edited as { ts: string }).ts));
    for (let i = 1; i < editedAt.length; i++)
      expect(editedAt[i] - editedAt[i - 1]).toBeGreaterThanOrEqual(1.5);
    expect(buttonIds(card())).toEqual(['squall:0=Re-run', 'squall-open:1=Open']);
    // Re-run asks first (Slack's confirm dialog): backing out of it does nothing.
    expect(confirmOf(card(), 'squall:0')).toMatchObject({
      title: { text: 'Re-run?' },
      text: { text: 'Run e2echat.ticker again with the same parameters?' },
      confirm: { text: 'Re-run' },
      deny: { text: 'Not now' },
    });
    await slack.clickButton({ message_ts: ack.ts, action_id: 'squall:0', confirm: false });
    // Two quick clicks (two people, or a double click) start one re-run.
    await Promise.all([
      slack.clickButton({ message_ts: ack.ts, action_id: 'squall:0', confirm: true }),
      slack.clickButton({ message_ts: ack.ts, action_id: 'squall:0', confirm: true }),
    ]);
    const again = await slack.waitForEphemeral((e) => /already re-run/.test(String(e.text)), 10_000);
    expect(again.user).toBe('U0ALICE');
    await waitFor(() => card().text && !buttonIds(card()).includes('squall:0=Re-run'), 'Re-run disabled');
    expect(JSON.stringify(card().blocks)).toContain('Re-run by alice');
    const rerunCard = await slack.waitForPost(
      (p) => inThread(ts)(p) && p.ts !== ack.ts && /e2echat\.ticker/.test(p.text),
    );
    await waitFor(
      () => slack.findMessage(rerunCard.channel, rerunCard.ts)!.text.startsWith('✅'),
      'the re-run card to succeed',
      15_000,
    );
    const reruns = await squall().svc.services.store.audit.find({ kind: 'chat.button', outcome: 'rerun' });
    expect(reruns).toHaveLength(1);
    if (target.kind === 'embedded') {
      const shown = (m: { text: string; blocks?: unknown[] }) => ({
        text: m.text,
        buttons: buttonIds(m),
        // Slack buttons cannot be greyed out: a disabled one is a line of context under the card.
        shown_as_context: (m.blocks as Array<{ type: string; elements?: Array<{ text?: string }> }>)
          .filter((b) => b.type === 'context')
          .slice(1)
          .flatMap((b) => (b.elements ?? []).map((e) => e.text ?? '')),
      });
      saveTranscript(
        'slack-card',
        'One command, one card on Slack: posted, edited as it runs, final, re-run once',
        [
          { alice: '!ticker' },
          { squall: 'posts the card in the thread', ...shown(first) },
          { squall: 'edits it (at most once per 2 s)', ...shown(running) },
          { squall: 'final state', ...shown(edits.at(-1)!) },
          {
            squall: 'reactions on the command',
            reactions: slack.reactions.items.filter((r) => r.ts === ts).map((r) => `${r.op} :${r.name}:`),
          },
          { alice: 'clicks Re-run twice' },
          { squall: 'to alice only', text: again.text },
          { squall: 'the card after the click', ...shown(card()) },
          {
            squall: 'posts the card of the re-run',
            text: slack.findMessage(rerunCard.channel, rerunCard.ts)!.text,
          },
        ],
      );
    }
    expect(reruns[0]).toMatchObject({ actor: 'alice', adapter: 'slack', channel: slack.defaultChannel });
  }, 40_000);

  it('a burst of 10 commands in one channel: Slack rate-limits posts over ~1/s, the client waits and retries, every card ends final', async () => {
    const commands: string[] = [];
    for (let n = 1; n <= 10; n++) commands.push(await slack.userSays({ text: `!echo burst ${n}` }));
    // Ten runs at once on a shared machine: give them longer than one command gets.
    for (const ts of commands) await settled(ts, 'white_check_mark', 45_000);
    for (const [i, ts] of commands.entries()) {
      const cards = slack.thread(slack.defaultChannel, ts).filter((m) => m.user === slack.botUserId);
      // One card per command, final, however many posts Slack refused at first.
      expect(cards).toHaveLength(1);
      expect(cards[0].text).toMatch(
        new RegExp(
          `^✅ e2echat\\.echo · alice\\nExecution \\w+ · succeeded · .*\\n\`\`\`\\nsaid burst ${i + 1}\\n\`\`\`$`,
        ),
      );
    }
    const limited = slack.calls.items.filter((c) => c.status === 429);
    // Ten cards in a second exceed Slack's burst for one channel: some posts waited.
    expect(limited.length).toBeGreaterThan(0);
    expect(
      limited.every(
        (c) => c.method === 'chat.postMessage' && (c.response as { error?: string }).error === 'ratelimited',
      ),
    ).toBe(true);
    // Each refused post was retried: the accepted posts are one card per command.
    const accepted = slack.calls.items.filter(
      (c) =>
        c.method === 'chat.postMessage' && c.status === 200 && commands.includes(String(c.params.thread_ts)),
    );
    expect(accepted).toHaveLength(10);
  }, 120_000);

  it('a burst of 10 results posted to one channel (sdk.chat.postMessage) all arrive, in order, each once, over Slack’s 429s', async () => {
    const before = slack.calls.items.length;
    const texts = Array.from({ length: 10 }, (_, i) => `result ${i + 1} of the burst`);
    for (const message of texts) {
      const res = await postThroughApi(squall(), 'slack', slack.defaultChannel, message);
      expect(res.status, await res.clone().text()).toBe(201);
    }
    const shown = slack
      .channelMessages(slack.defaultChannel)
      .map((m) => m.text)
      .filter((t) => t.endsWith('of the burst'));
    expect(shown).toEqual(texts);
    // Ten posts in a few seconds are over Slack's ~1 per second: some were refused and retried.
    const calls = slack.calls.items.slice(before).filter((c) => c.method === 'chat.postMessage');
    expect(calls.filter((c) => c.status === 429).length).toBeGreaterThan(0);
    expect(calls.filter((c) => c.status === 200)).toHaveLength(10);
  }, 60_000);

  it('a post Slack refuses (not_in_channel) is answered 403 naming Slack’s error, not an opaque 500; the bot posts on elsewhere', async () => {
    const post = (channel: string, message: string) => postThroughApi(squall(), 'slack', channel, message);
    slack.addChannel({ id: 'C0NOBOT', name: 'no-bot', is_member: false });
    const refused = await post('C0NOBOT', 'into a channel the bot is not in');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      code: 'CHAT_PLATFORM_REFUSED',
      faultstring:
        'Slack refused chat.postMessage in C0NOBOT: not_in_channel (the bot is not a member of C0NOBOT; invite it there (/invite @bot), or add the chat:write.public scope for public channels)',
    });
    const ok = await post(slack.defaultChannel, 'after the refusal');
    expect(ok.status).toBe(201);
    await slack.waitForPost((p) => p.text === 'after the refusal');
  });

  it('a long message: public, cut and attached as a file; private, several ephemerals and no file', async () => {
    const long = Array.from({ length: 400 }, (_, i) => `row ${i} of a long answer`).join('\n');
    expect(long.length).toBeGreaterThan(4000);
    const send = (body: Record<string, unknown>) =>
      fetch(`${squall().svc.url}/api/v1/chatops/message`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ adapter: 'slack', channel: slack.defaultChannel, ...body }),
      });
    const uploadsBefore = slack.uploads.items.length;
    const ephemeralsBefore = slack.ephemerals.items.length;
    const whispered = await send({ message: `private ${long}`, user: 'U0ALICE', whisper: true });
    expect(whispered.status, await whispered.clone().text()).toBe(201);
    const parts = slack.ephemerals.items.slice(ephemeralsBefore);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((e) => e.user === 'U0ALICE' && e.text.length <= 4000)).toBe(true);
    expect(parts.map((e) => e.text).join('')).toBe(`private ${long}`);
    expect(slack.uploads.items.length).toBe(uploadsBefore);

    const shown = await send({ message: `public ${long}` });
    expect(shown.status, await shown.clone().text()).toBe(201);
    const upload = await slack.waitForUpload(
      (u) => u.completed === true && slack.uploads.items.indexOf(u) >= uploadsBefore,
      15_000,
    );
    expect(upload.data!.toString('utf8')).toBe(`public ${long}`);
  });

  it('Cancel is refused to a user without execution_stop (audited) and cancels the run for one with it', async () => {
    const ts = await slack.userSays({ text: '!slow job' });
    const card = await cardOf(ts);
    const ack = card();
    const id = /Execution (\w+)/.exec(ack.text)![1];
    await slack.waitForUpdate((u) => u.ts === ack.ts && u.text.includes('· running ·'), 10_000);

    expect(confirmOf(card(), 'squall:0')).toMatchObject({
      title: { text: 'Cancel this run?' },
      confirm: { text: 'Cancel run' },
      deny: { text: 'Keep running' },
      style: 'danger',
    });
    await slack.clickButton({ message_ts: ack.ts, action_id: 'squall:0', user: 'U0BOB', confirm: true });
    const refusal = await slack.waitForEphemeral((e) => /may not cancel/.test(String(e.text)), 10_000);
    expect(String(refusal.text)).toContain('execution_stop');
    const denied = await waitFor(
      () => squall().svc.services.store.audit.findOne({ kind: 'chat.button', outcome: 'forbidden' }),
      'the audit of the refused click',
    );
    expect(denied).toMatchObject({ actor: 'mallory', adapter: 'slack', what: `exec:cancel:${id}` });
    expect((await squall().svc.services.store.executions.get(id))?.status).toBe('running');

    await slack.clickButton({ message_ts: ack.ts, action_id: 'squall:0', confirm: true });
    await waitFor(
      async () => (await squall().svc.services.store.executions.get(id))?.status === 'canceled',
      'the execution to be canceled',
      15_000,
    );
    await settled(ts, 'x');
    expect(card().text).toMatch(/^🚫 e2echat\.slow · alice\nExecution \w+ · canceled/);
    expect(card().text).toContain('Canceled by alice.');
    const done = await squall().svc.services.store.audit.findOne({
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
    await settled(ts, 'white_check_mark');
    expect(slack.thread(slack.defaultChannel, ts).map((m) => m.text)).toEqual([
      '!echo after reconnect',
      expect.stringContaining('said after reconnect'),
    ]);
    // The audit is written after the card's final state: wait for it, then count.
    await waitFor(
      () => squall().svc.services.store.audit.findOne({ kind: 'chat.command', text: 'echo after reconnect' }),
      'the audit of the command',
    );
    const audits = await squall().svc.services.store.audit.find({
      kind: 'chat.command',
      text: 'echo after reconnect',
    });
    expect(audits).toHaveLength(1);
  }, 40_000);
});
