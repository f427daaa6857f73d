import { afterAll, beforeAll, expect, it } from 'vitest';
import { ShellAdapter, type ShellEvent } from '../../../adapters/shell/index.js';
import { chatopsSubsystem, type ChatAdapter } from '../../../src/chatops/index.js';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { PermissionError } from '../../../src/errors.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { PAYLOAD_PREFIX, inquiriesSubsystem } from '../../../src/inquiries/index.js';
import type { Subsystem } from '../../../src/service/index.js';
import { workflowsSubsystem } from '../../../src/workflows/engine/index.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl } from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { waitFor } from '../../support/wait.js';
import { INQ_PACKS } from './helpers.js';

/** Denies everything to "mallory", allows everyone else. */
const fakeRbac: Subsystem = {
  name: 'fake-rbac',
  init(services) {
    services.rbac = {
      assertCan(user, permission) {
        if (user.name === 'mallory')
          throw new PermissionError(`User "${user.name}" doesn't have required permission "${permission}"`, {
            permission,
          });
      },
    };
  },
};

const alice = { id: 'U1', name: 'alice' };
const bob = { id: 'U2', name: 'bob' };
const eve = { id: 'U666', name: 'eve' };
type Ask = Extract<ShellEvent, { type: 'ask' }>;

for (const target of STORE_TARGETS) {
  describeWithServer(
    `inquiries in chat over the shell adapter (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let svc: Awaited<ReturnType<typeof startTestService>>;
      let shell: ShellAdapter;
      let executions: ReturnType<typeof executionsSubsystem>;

      beforeAll(async () => {
        shell = new ShellAdapter();
        executions = executionsSubsystem();
        const workflows = workflowsSubsystem(executions.service, { sweepEveryMs: 1000 });
        svc = await startTestService({
          subsystems: [
            testSecretsSubsystem(),
            fakeRbac,
            contentSubsystem(),
            executions,
            workflows,
            chatopsSubsystem(executions.service, { adapters: [shell] }),
            inquiriesSubsystem(executions.service, {
              chatAdapters: () => new Map([['shell', shell as ChatAdapter]]),
              resumeWorkflow: (id) => workflows.engine().resume(id),
            }),
          ],
          mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
          config: {
            'auth.enable': false,
            'packs.paths': [INQ_PACKS],
            'scheduler.process_every_ms': 200,
            'chatops.users': { 'shell:U1': 'alice', 'shell:U2': 'bob', 'shell:U666': 'mallory' },
          },
        });
      }, 60_000);
      afterAll(async () => {
        await svc?.cleanup();
      });

      /** Alice starts the deploy workflow in `channel`; its Approve/Deny prompt, in her command's thread. */
      const askForApproval = async (channel: string) => {
        const thread = await shell.say(alice, '!deploy with approval', { channel });
        const prompt = await waitFor(
          () =>
            shell
              .transcript(channel)
              .find((e): e is Ask => e.type === 'ask' && e.payload.startsWith(PAYLOAD_PREFIX)),
          'the inquiry prompt in the thread',
          20_000,
        );
        expect(prompt.thread).toBe(thread);
        return prompt;
      };

      it('posts Approve/Deny in the thread; refuses the requester and a user without permission; an allowed click resumes the workflow', async () => {
        const prompt = await askForApproval('dev');
        expect(prompt.question).toContain('Deploy to production?');
        expect(prompt.question).toContain('the requester cannot approve');
        expect(prompt.choices.map((c) => c.label)).toEqual(['Approve', 'Deny']);
        const inquiryId = prompt.payload.split('.')[1];
        const pending = async () => (await svc.services.store.inquiries.get(inquiryId))?.status;

        // The requester (policy from the alias's extra.approval) is refused, privately.
        await shell.press(alice, prompt.id, 'Approve');
        const toAlice = shell.transcript('dev').filter((e) => e.type === 'message' && e.whisperTo === 'U1');
        expect(toAlice.at(-1)).toMatchObject({ thread: prompt.thread });
        expect((toAlice.at(-1) as { text: string }).text).toContain(
          'started this workflow and cannot also approve it',
        );
        expect(await pending()).toBe('pending');

        // No RBAC inquiry_respond: refused, nothing changes.
        await shell.press(eve, prompt.id, 'Approve');
        const toEve = shell.transcript('dev').filter((e) => e.type === 'message' && e.whisperTo === 'U666');
        expect((toEve.at(-1) as { text: string }).text).toContain('inquiry_respond');
        expect(await pending()).toBe('pending');

        // A forged payload is refused too.
        const forged = { ...prompt, id: `${prompt.id}-x`, payload: prompt.payload.slice(0, -2) + 'xx' };
        (shell as unknown as { questions: Map<string, Ask> }).questions.set(forged.id, forged);
        await shell.press(bob, forged.id, 'Approve');
        const toBob = shell.transcript('dev').filter((e) => e.type === 'message' && e.whisperTo === 'U2');
        expect((toBob.at(-1) as { text: string }).text).toContain('signature');
        expect(await pending()).toBe('pending');

        await shell.press(bob, prompt.id, 'Approve');
        const edited = await waitFor(
          () => shell.transcript('dev').find((e) => e.type === 'update' && e.id === prompt.id),
          'the prompt to be edited',
        );
        expect((edited as { text: string }).text).toMatch(/\n✅ Approved by @bob · \d\d:\d\d UTC$/);
        // The result is the final state of the run's card (a card edit in the thread).
        const result = await waitFor(
          () =>
            shell
              .transcript('dev')
              .find(
                (e) =>
                  e.type === 'update' &&
                  e.card?.note === 'Deploy workflow succeeded: approved' &&
                  e.card.emoji === '✅',
              ),
          'the workflow result in the thread',
          20_000,
        );
        expect((result as { text: string }).text).toContain('\nDeploy workflow succeeded: approved');
        const trail = await svc.services.store.audit.find(
          { kind: 'inquiry.decision', inquiry_id: inquiryId },
          { sort: { timestamp: 1 } },
        );
        expect(trail.map((d) => [d.chat_user, d.actor, d.via, d.adapter, d.channel, d.outcome])).toEqual([
          ['alice', 'alice', 'chat', 'shell', 'dev', 'denied'],
          ['eve', 'mallory', 'chat', 'shell', 'dev', 'denied'],
          ['bob', 'bob', 'chat', 'shell', 'dev', 'accepted'],
        ]);
      });

      it("who re-runs someone's chat run is its requester: the re-runner cannot approve it, the first requester can", async () => {
        const first = await askForApproval('rerun');
        await shell.press(bob, first.id, 'Approve');
        const root = String((await svc.services.store.inquiries.get(first.payload.split('.')[1]))!.root);
        const card = await waitFor(
          () =>
            shell
              .transcript('rerun')
              .find((e) => e.type === 'update' && e.card?.buttons?.payload === `exec:rerun:${root}`),
          "the finished card's Re-run",
          20_000,
        );
        const prompts = () =>
          shell
            .transcript('rerun')
            .filter((e): e is Ask => e.type === 'ask' && e.payload.startsWith(PAYLOAD_PREFIX));
        const bobCannotAliceCan = async (n: number) => {
          const second = await waitFor(() => prompts()[n], 'the re-run prompt', 20_000);
          const inquiry = second.payload.split('.')[1];
          await shell.press(bob, second.id, 'Approve');
          const toBob = shell
            .transcript('rerun')
            .filter((e) => e.type === 'message' && e.whisperTo === bob.id);
          expect((toBob.at(-1) as { text: string } | undefined)?.text).toContain(
            'started this workflow and cannot also approve it',
          );
          expect((await svc.services.store.inquiries.get(inquiry))?.status).toBe('pending');
          await shell.press(alice, second.id, 'Approve');
          await waitFor(
            async () =>
              (await svc.services.store.inquiries.get(inquiry))?.status === 'succeeded' ? true : undefined,
            'alice to approve bob’s re-run',
          );
        };
        // Bob presses Re-run on alice's card: the re-run is his.
        await shell.press(bob, card.id, 'Re-run');
        const confirm = shell
          .transcript('rerun')
          .filter(
            (e): e is Ask => e.type === 'ask' && e.whisperTo === bob.id && e.question.startsWith('Re-run?'),
          );
        await shell.press(bob, confirm[0].id, 'Re-run');
        await bobCannotAliceCan(1);
        // Bob re-runs it through the API (POST /executions/{id}/re_run): his too.
        await executions.service().rerun(root, 'bob');
        await bobCannotAliceCan(2);
      });

      it('Deny asks the presser first: backing out leaves the inquiry pending, confirming denies it', async () => {
        const prompt = await askForApproval('deny');
        const inquiryId = prompt.payload.split('.')[1];
        const status = async () => (await svc.services.store.inquiries.get(inquiryId))?.status;
        const asked = () =>
          shell.transcript('deny').filter((e): e is Ask => e.type === 'ask' && e.whisperTo === bob.id);

        await shell.press(bob, prompt.id, 'Deny');
        expect(asked().map((q) => [q.question, q.choices.map((c) => c.label)])).toEqual([
          ['Deny? Deny this approval? The workflow goes on as denied.', ['Deny', 'Back']],
        ]);
        await shell.press(bob, asked()[0].id, 'Back');
        expect(await status()).toBe('pending');

        await shell.press(bob, prompt.id, 'Deny');
        expect(asked()).toHaveLength(2);
        await shell.press(bob, asked()[1].id, 'Deny');
        await waitFor(
          async () => ((await status()) !== 'pending' ? true : undefined),
          'the inquiry answered',
        );
        const trail = await svc.services.store.audit.find({
          kind: 'inquiry.decision',
          inquiry_id: inquiryId,
        });
        expect(trail.map((d) => [d.chat_user, d.outcome])).toEqual([['bob', 'accepted']]);
        const answered = (await svc.services.store.inquiries.get(inquiryId))!;
        expect(Object.values(answered.response ?? {})).toEqual([false]);
      });

      it('"!respond <id> key=value …" answers a form: values typed by the schema, errors explained in the thread', async () => {
        const thread = await shell.say(alice, '!fill in the form', { channel: 'forms' });
        const prompt = await waitFor(
          () =>
            shell
              .transcript('forms')
              .find(
                (e): e is Extract<ShellEvent, { type: 'message' }> =>
                  e.type === 'message' && e.thread === thread && e.text.includes('!respond'),
              ),
          'the form prompt in the thread',
          20_000,
        );
        const id = /Inquiry (\w+)/.exec(prompt.text)![1];
        expect(prompt.text).toContain('count (integer) - How many hosts?');
        expect(prompt.text).toContain(`Answer with: !respond ${id} reason="…" count=1 urgent=yes`);
        const replies = () =>
          shell
            .transcript('forms')
            .filter(
              (e): e is Extract<ShellEvent, { type: 'message' }> =>
                e.type === 'message' && e.thread === thread && e.from === 'squall',
            );
        const say = async (who: typeof alice, text: string) => {
          const before = replies().length;
          await shell.say(who, text, { channel: 'forms', thread });
          return replies()[before]?.text ?? '';
        };
        const pending = async () => (await svc.services.store.inquiries.get(id))?.status;

        expect(await say(bob, `!respond ${id} count=lots`)).toBe(
          `Sorry bob, that didn't work: "lots" is not an integer (field "count")`,
        );
        expect(await say(bob, `!respond ${id} count=3`)).toContain(
          'Response did not pass schema validation: "reason" is a required property',
        );
        expect(await say(bob, `!respond ${id} cuont=3`)).toContain(`inquiry ${id} has no field "cuont"`);
        expect(await say(bob, `!respond ${id} yes`)).toContain('"yes" is not a field=value answer');
        expect(await say(bob, '!respond 0123456789abcdef01234567 reason=x')).toMatch(
          /Inquiry "?0123456789abcdef01234567"? .*not found/i,
        );
        // RBAC inquiry_respond still applies to typed answers.
        expect(await say(eve, `!respond ${id} reason=x count=1 urgent=no`)).toContain('inquiry_respond');
        expect(await pending()).toBe('pending');

        expect(await say(bob, `!respond ${id} reason="disk full" count=3 urgent=no`)).toBe(
          `Thanks bob, inquiry ${id} answered with {"reason":"disk full","count":3,"urgent":false}.`,
        );
        const result = await waitFor(
          () =>
            shell
              .transcript('forms')
              .find((e) => e.type === 'update' && e.card?.note?.startsWith('Form ') && e.card.emoji === '✅'),
          'the workflow result on its card',
          20_000,
        );
        expect((result as { card: { note: string } }).card.note).toBe(
          'Form succeeded: {"count": 3,"reason": "disk full","urgent": false}',
        );
        const trail = await svc.services.store.audit.find(
          { kind: 'inquiry.decision', inquiry_id: id },
          { sort: { timestamp: 1 } },
        );
        expect(
          trail.map((d) => [d.chat_user, d.actor, d.via, d.adapter, d.channel, d.thread, d.outcome]),
        ).toEqual([
          ['bob', 'bob', 'chat', 'shell', 'forms', thread, 'denied'],
          ['bob', 'bob', 'chat', 'shell', 'forms', thread, 'denied'],
          ['bob', 'bob', 'chat', 'shell', 'forms', thread, 'denied'],
          ['eve', 'mallory', 'chat', 'shell', 'forms', thread, 'denied'],
          ['bob', 'bob', 'chat', 'shell', 'forms', thread, 'accepted'],
        ]);
      });
    },
  );
}
