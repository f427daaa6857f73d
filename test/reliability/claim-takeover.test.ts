import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newId } from '../../src/ids.js';
import { DiscordEmulator } from '../emulators/discord/index.js';
import { SlackEmulator } from '../emulators/slack/index.js';
import { MONGO_URL, describeWithServer, freshMongoUrl, tempDir } from '../support/servers.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.js';
import { sleep, waitFor } from '../support/wait.js';
import { TERMINAL, api, type Json } from './cluster.js';

/**
 * Work claimed once per event and done by the claimer — a retry policy's re-run (`retry:<id>`),
 * an execution's chat notification (`chatops:notify:<id>`), an inquiry's chat prompt
 * (`inquiries:chat:<id>`) — was lost for good when the claimer died between claiming and doing
 * it: nothing took those claims over (issue 18). Here a `squall start` process SIGKILLs itself
 * right after storing such a claim (test/support/kill-after-claim.ts), and the next process on
 * the same store must do the work, exactly once.
 */
const PACKS = path.join(import.meta.dirname, 'fixtures-kill');
const HOOK = path.join(import.meta.dirname, '../support/kill-after-claim.ts');
/** Longer than executions.dead_after_ms and leases.ttl_ms below: the killed process is dead. */
const DEAD_MS = 3_500;
const TAKEOVER_MS = 90_000;

const TARGETS = [
  { kind: 'embedded', available: true, server: 'the embedded store' },
  { kind: 'mongo', available: Boolean(MONGO_URL), server: 'FerretDB/MongoDB (SQUALL_TEST_MONGO_URL)' },
] as const;

for (const target of TARGETS) {
  describeWithServer(
    `claimed work of a process killed after claiming it is taken over (${target.kind})`,
    target.server,
    target.available,
    () => {
      const data = tempDir('squall-claim-takeover-');
      const storeUrl = target.kind === 'mongo' ? freshMongoUrl() : undefined;
      const started: ServiceProcess[] = [];
      let slack: SlackEmulator;
      let discord: DiscordEmulator;
      let current: ServiceProcess;

      /**
       * Starts the next process; with `killAfter`, it dies as soon as it claims such a key; with
       * `killAfterStatus`, as soon as it stored an execution's move to that status.
       */
      const start = async (killAfter?: string, killAfterStatus?: string, killBeforeDone?: string) => {
        const p = await startServiceProcess(
          ['--config', config],
          {
            SQUALL_DATA_DIR: data.dir,
            ...(storeUrl ? { SQUALL_STORE_URL: storeUrl } : {}),
            ...(killAfter ? { SQUALL_TEST_KILL_AFTER_CLAIM: killAfter } : {}),
            ...(killAfterStatus ? { SQUALL_TEST_KILL_AFTER_STATUS: killAfterStatus } : {}),
            ...(killBeforeDone ? { SQUALL_TEST_KILL_BEFORE_DONE: killBeforeDone } : {}),
            SQUALL_PACKS_PATHS: PACKS,
            SQUALL_AUTH_ENABLE: 'false',
            SQUALL_LOG_LEVEL: 'warn',
            SQUALL_EXECUTIONS_HEARTBEAT_MS: '500',
            SQUALL_EXECUTIONS_DEAD_AFTER_MS: '3000',
            SQUALL_EXECUTIONS_CHECK_EVERY_MS: '1000',
            SQUALL_LEASES_TTL_MS: '3000',
            SQUALL_LEASES_CHECK_EVERY_MS: '500',
            SQUALL_SCHEDULER_PROCESS_EVERY_MS: '300',
            SQUALL_CHATOPS_SLACK_ENABLED: 'true',
            SQUALL_CHATOPS_SLACK_BOT_TOKEN: slack.botToken,
            SQUALL_CHATOPS_SLACK_APP_TOKEN: slack.appToken,
            SQUALL_CHATOPS_SLACK_API_URL: slack.apiUrl,
            SQUALL_CHATOPS_DISCORD_ENABLED: 'true',
            SQUALL_CHATOPS_DISCORD_TOKEN: discord.botToken,
            SQUALL_CHATOPS_DISCORD_API_URL: discord.apiUrl,
            SQUALL_CHATOPS_DISCORD_GUILD_ID: discord.guildId,
          },
          90_000,
          ['--import', HOOK],
        );
        started.push(p);
        current = p;
        return p;
      };

      /** Waits until `p` killed itself after `what` (claiming `prefix…`); then until it counts as dead. */
      const killedAfter = async (p: ServiceProcess, what: string) => {
        await waitFor(
          () => p.child.signalCode === 'SIGKILL',
          `the process to kill itself after ${what}…`,
          60_000,
          100,
        );
        expect(p.output.some((l) => l.startsWith(`KILLED AFTER ${what}`))).toBe(true);
        await sleep(DEAD_MS);
      };
      /** Waits until a live process (any: each sweeps) logged that it did `key`'s work, then a little more. */
      const tookOver = async (key: string) => {
        await waitFor(
          () =>
            started.some((p) =>
              p.output.some((l) => l.includes('did claimed work whose lease expired') && l.includes(key)),
            ),
          `a live process to take ${key} over`,
          TAKEOVER_MS,
          250,
        );
        await sleep(2_000);
      };
      const killedAfterClaim = (p: ServiceProcess, prefix: string) => killedAfter(p, `CLAIM ${prefix}`);

      /**
       * Requests an execution from `p`, which may kill itself before it answers: the answer waits
       * for the fsync, while the work it sets off (a noop run, its completion, the claim the hook
       * dies at) only waits for commits. Then there is no answer (undefined), and executionWith()
       * finds the execution through the next process's API. X-Request-Id cannot stand in: it
       * names the request, not the execution (POST /executions takes no id from the client).
       */
      const requestExecution = async (p: ServiceProcess, body: Json): Promise<string | undefined> => {
        try {
          const res = await api(p.url, 'POST', '/api/v1/executions', body);
          expect(res.status, JSON.stringify(res.body)).toBe(201);
          return String(res.body.id);
        } catch (err) {
          await waitFor(
            () => p.child.signalCode === 'SIGKILL',
            'the process to have killed itself',
            10_000,
            100,
          ).catch(() => {
            throw err;
          });
          return undefined;
        }
      };

      /** The id the answer gave, or that of the execution of `action` whose parameters hold `marker`. */
      const executionWith = async (action: string, marker: string, answered: string | undefined) => {
        if (answered) return answered;
        const found = (await executionsOf(action)).find((e) => JSON.stringify(e.parameters).includes(marker));
        expect(found, `the execution of ${action} with ${marker}, through the API`).toBeDefined();
        return String(found!.id);
      };

      const executionsOf = async (action: string): Promise<Json[]> => {
        const res = await api(current.url, 'GET', `/api/v1/executions?action=${action}&limit=100`);
        expect(res.status).toBe(200);
        return res.body as Json[];
      };

      const postsWith = (text: string) => slack.posts.items.filter((p) => String(p.text).includes(text));

      const config = path.join(data.dir, 'squall.yaml');
      beforeAll(async () => {
        slack = await new SlackEmulator().start();
        discord = await new DiscordEmulator().start();
        writeFileSync(
          config,
          `chatops:\n  routes:\n    ops: { adapter: slack, channel: ${slack.defaultChannel} }\n` +
            `    both:\n      - { adapter: slack, channel: ${slack.defaultChannel} }\n` +
            `      - { adapter: discord, channel: '${discord.defaultChannel}' }\n` +
            `    dc: { adapter: discord, channel: '${discord.defaultChannel}' }\n`,
        );
      });

      afterAll(async () => {
        await Promise.all(started.map((p) => p.stop('SIGKILL')));
        await slack?.stop();
        await discord?.stop();
        data.cleanup();
      });

      it('retry:<execution>: the retry a failed execution is owed is requested once, though its process died right after the failure was stored', async () => {
        // The retry is claimed with the completion, before the status is written: killed once the
        // `failed` status is on disk, the process leaves the claim open for the next one. Before
        // that was so, nothing recorded that a retry was owed, and no process ever requested it.
        const p = await start(undefined, 'failed');
        const res = await api(p.url, 'POST', '/api/v1/executions', { action: 'claimkill.fail' });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        await killedAfter(p, `STATUS failed ${res.body.id}`);

        await start('chatops:notify:');
        const runs = await waitFor(
          async () => {
            const list = await executionsOf('claimkill.fail');
            return list.length >= 2 && list.every((e) => TERMINAL.includes(e.status)) ? list : undefined;
          },
          'the retry of claimkill.fail, taken over and finished',
          TAKEOVER_MS,
          250,
        );
        // max_retry_count 1: the original and one re-run, both failed, the re-run naming the original.
        expect(runs.map((e) => e.status)).toEqual(['failed', 'failed']);
        const rerun = runs.find((e) => e.context?.policies?.retry);
        expect(rerun?.context.policies.retry).toMatchObject({ retry_count: 1, original: res.body.id });
      }, 240_000);

      it('chatops:notify:<execution>: the notification the dead process claimed is posted once', async () => {
        const marker = newId();
        const answered = await requestExecution(current, {
          action: 'claimkill.notified',
          parameters: { marker },
        });
        await killedAfterClaim(current, 'chatops:notify:');
        expect(postsWith(marker)).toEqual([]);

        await start('inquiries:chat:');
        const id = await executionWith('claimkill.notified', marker, answered);
        await slack.waitForPost((p) => String(p.text).includes(`claimkill notified ${marker}`), TAKEOVER_MS);
        // A few more sweeps: still one post, and one notify trigger instance.
        await sleep(3_000);
        expect(postsWith(marker)).toHaveLength(1);
        const instances = await api(
          current.url,
          'GET',
          '/api/v1/triggerinstances?trigger=core.st2.generic.notifytrigger&limit=100',
        );
        expect((instances.body as Json[]).filter((i) => i.payload?.execution_id === id)).toHaveLength(1);
        expect((await executionsOf('claimkill.fail')).length, 'no retry beyond max_retry_count').toBe(2);
      }, 240_000);

      it('inquiries:chat:<inquiry>: the prompt the dead process claimed is posted once', async () => {
        const marker = newId();
        const answered = await requestExecution(current, {
          action: 'core.ask',
          parameters: {
            route: 'ops',
            schema: {
              type: 'object',
              description: `claimkill question ${marker}`,
              properties: { continue: { type: 'boolean' } },
            },
          },
        });
        await killedAfterClaim(current, 'inquiries:chat:');
        expect(postsWith(marker)).toEqual([]);

        await start();
        const id = await executionWith('core.ask', marker, answered);
        await slack.waitForPost((p) => String(p.text).includes(marker), TAKEOVER_MS);
        await sleep(3_000);
        expect(postsWith(marker)).toHaveLength(1);
        const inquiry = await api(current.url, 'GET', `/api/v1/inquiries/${id}`);
        expect(inquiry.body.status).toBe('pending');
        expect(postsWith(`claimkill notified`), 'the notification was not posted again').toHaveLength(1);
      }, 240_000);

      it('a notification posted by a process killed before marking it done is not posted again (Slack, Discord)', async () => {
        const marker = newId();
        // One live process at a time on the store: the one killed must be the one doing the work.
        await current?.stop();
        const p = await start(undefined, undefined, 'chatops:notify:');
        const answered = await requestExecution(p, {
          action: 'claimkill.notified_both',
          parameters: { marker },
        });
        await killedAfter(p, 'WORK chatops:notify:');
        const text = `claimkill both ${marker}`;
        const onSlack = () => slack.posts.items.filter((m) => String(m.text).includes(text));
        const onDiscord = () => discord.posts.items.filter((m) => JSON.stringify(m).includes(text));
        expect(onSlack()).toHaveLength(1);
        expect(onDiscord()).toHaveLength(1);

        await start();
        const key = `chatops:notify:${await executionWith('claimkill.notified_both', marker, answered)}`;
        await tookOver(key);
        expect.soft(onSlack(), 'Slack: the earlier post was found by its metadata').toHaveLength(1);
        expect(onDiscord(), 'Discord: the same nonce returned the earlier message').toHaveLength(1);
      }, 240_000);

      it('an inquiry prompt posted by a process killed before storing it is not posted again (Slack, Discord)', async () => {
        for (const route of ['ops', 'dc']) {
          const marker = newId();
          await current?.stop();
          const p = await start(undefined, undefined, 'inquiries:chat:');
          const answered = await requestExecution(p, {
            action: 'core.ask',
            parameters: {
              route,
              schema: {
                type: 'object',
                description: `claimkill prompt ${marker}`,
                properties: { continue: { type: 'boolean' } },
              },
            },
          });
          await killedAfter(p, 'WORK inquiries:chat:');
          const prompts = () =>
            route === 'ops'
              ? slack.posts.items.filter((m) => JSON.stringify(m).includes(marker))
              : discord.posts.items.filter((m) => JSON.stringify(m).includes(marker));
          expect(prompts(), `${route}: the dead process posted the prompt`).toHaveLength(1);

          await start();
          const id = await executionWith('core.ask', marker, answered);
          await tookOver(`inquiries:chat:${id}`);
          expect.soft(prompts(), `${route}: the prompt was not posted again`).toHaveLength(1);
          const inquiry = await api(current.url, 'GET', `/api/v1/inquiries/${id}`);
          expect(inquiry.body.status).toBe('pending');
        }
      }, 360_000);
    },
  );
}
