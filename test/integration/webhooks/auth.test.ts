import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { getAuthService } from '../../../src/auth/index.js';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { eventsSubsystem } from '../../../src/rules/index.js';
import { notifierSubsystem } from '../../../src/notifier/index.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl } from '../../support/servers.js';
import { testSecretsSubsystem } from '../../support/test-service.js';
import { waitFor } from '../../support/wait.js';

const githubSignature = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const slackSignature = (secret: string, ts: string, body: string) =>
  `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;

for (const target of STORE_TARGETS) {
  describeWithServer(
    `webhooks with auth on (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let api: TestApi;
      const instances = (hook: string) =>
        api.services.store.triggerInstances.count({ source: `webhook:${hook}` });
      const post = (hook: string, body: string, headers: Record<string, string>) =>
        fetch(`${api.url}/api/v1/webhooks/${hook}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
        });

      beforeAll(async () => {
        const executions = executionsSubsystem();
        api = await startTestApi({
          subsystems: [
            testSecretsSubsystem(),
            contentSubsystem(),
            executions,
            eventsSubsystem(() => executions.service()),
            notifierSubsystem(
              () => executions.service(),
              () => undefined,
            ),
          ],
          mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
          overrides: { 'api.max_waiting_webhooks_per_user': 2, 'api.max_waiting_webhooks': 3 },
        });
        const key = await api.request('PUT', '/api/v1/keys/slack_signing', {
          body: { value: 'slack-s3cret', secret: true },
        });
        expect(key.status, JSON.stringify(key.body)).toBeLessThan(300);
        for (const rule of [
          {
            name: 'plain',
            pack: 'hooks',
            enabled: true,
            trigger: { type: 'core.st2.webhook', parameters: { url: 'plain' } },
            action: { ref: 'core.noop' },
          },
          {
            name: 'slow',
            pack: 'hooks',
            enabled: true,
            trigger: { type: 'core.st2.webhook', parameters: { url: 'slow' } },
            action: { ref: 'core.local', parameters: { cmd: 'sleep 60', timeout: 90 } },
          },
          {
            name: 'slack',
            pack: 'hooks',
            enabled: true,
            trigger: {
              type: 'core.st2.webhook',
              parameters: {
                url: 'slack/events',
                hmac: { secret: '{{ st2kv.system.slack_signing | decrypt_kv }}', preset: 'slack' },
              },
            },
            action: { ref: 'core.noop' },
          },
        ]) {
          const res = await api.request('POST', '/api/v1/rules', { body: rule });
          expect(res.status, JSON.stringify(res.body)).toBe(201);
        }
      }, 60_000);
      afterAll(async () => api?.stop());

      it('a webhook without HMAC needs API credentials (token or API key) like the rest of the API', async () => {
        const anonymous = await post('plain', '{"a":1}', {});
        expect(anonymous.status).toBe(401);
        expect(await instances('plain')).toBe(0);
        expect((await post('plain', '{"a":1}', { 'X-Auth-Token': 'not-a-token' })).status).toBe(401);
        expect(await instances('plain')).toBe(0);

        const withToken = await post('plain', '{"a":1}', { 'X-Auth-Token': api.adminToken });
        expect(withToken.status).toBe(202);
        expect(await withToken.json()).toEqual({ a: 1 });
        const { key } = await getAuthService(api.services).createApiKey(api.adminUser);
        expect((await post('plain', '{"a":2}', { 'St2-Api-Key': key })).status).toBe(202);
        expect(await instances('plain')).toBe(2);
        const [stored] = await api.services.store.triggerInstances.find(
          { source: 'webhook:plain' },
          { limit: 1 },
        );
        expect(Object.keys((stored.payload as { headers: object }).headers)).not.toContain('st2-api-key');
        expect(Object.keys((stored.payload as { headers: object }).headers)).not.toContain('x-auth-token');
      });

      it('a Slack-signed webhook (secret from st2kv) needs no credentials; stale or forged requests get 401', async () => {
        const body = JSON.stringify({ type: 'event_callback', event: { text: 'hi' } });
        const now = String(Math.floor(Date.now() / 1000));
        const ok = await post('slack/events', body, {
          'X-Slack-Request-Timestamp': now,
          'X-Slack-Signature': slackSignature('slack-s3cret', now, body),
        });
        expect(ok.status).toBe(202);
        expect(await instances('slack/events')).toBe(1);
        // The same signed request replayed within the window gets the first answer, dispatches nothing.
        const replayed = await post('slack/events', body, {
          'X-Slack-Request-Timestamp': now,
          'X-Slack-Signature': slackSignature('slack-s3cret', now, body),
        });
        expect(replayed.status).toBe(202);
        expect(replayed.headers.get('x-squall-redelivery')).toBe('true');
        expect(await instances('slack/events')).toBe(1);

        const old = String(Math.floor(Date.now() / 1000) - 600);
        const stale = await post('slack/events', body, {
          'X-Slack-Request-Timestamp': old,
          'X-Slack-Signature': slackSignature('slack-s3cret', old, body),
        });
        expect(stale.status).toBe(401);
        expect(((await stale.json()) as { faultstring: string }).faultstring).toContain(
          'X-Slack-Request-Timestamp',
        );
        const forged = await post('slack/events', body, {
          'X-Slack-Request-Timestamp': now,
          'X-Slack-Signature': slackSignature('guess', now, body),
        });
        expect(forged.status).toBe(401);
        expect(await instances('slack/events')).toBe(1);
      });

      it('a GitHub secret read without | decrypt_kv refuses signed deliveries as before, and the log says why (once, never the secret)', async () => {
        const plain = 'gh-s3cret-plain';
        const key = await api.request('PUT', '/api/v1/keys/gh_hook_secret', {
          body: { value: plain, secret: true },
        });
        expect(key.status, JSON.stringify(key.body)).toBeLessThan(300);
        const ciphertext = (await api.request('GET', '/api/v1/keys/gh_hook_secret')).body as {
          value: string;
        };
        expect(ciphertext.value).toMatch(/^[0-9A-F]{60,}$/);
        for (const [name, secret] of [
          ['gh-encrypted', '{{ st2kv.system.gh_hook_secret }}'],
          ['gh-decrypted', '{{ st2kv.system.gh_hook_secret | decrypt_kv }}'],
        ]) {
          const res = await api.request('POST', '/api/v1/rules', {
            body: {
              name,
              pack: 'hooks',
              enabled: true,
              trigger: {
                type: 'core.st2.webhook',
                parameters: { url: name, hmac: { secret, preset: 'github' } },
              },
              action: { ref: 'core.noop' },
            },
          });
          expect(res.status, JSON.stringify(res.body)).toBe(201);
        }
        const warn = vi.spyOn(api.services.logger, 'warn');
        try {
          const body = '{"ref":"refs/heads/main"}';
          const hint = () =>
            warn.mock.calls.filter((c) => JSON.stringify(c).includes('WEBHOOK_HMAC_SECRET_ENCRYPTED'));
          // A plain wrong signature on the hook whose secret is right: refused, nothing in the log.
          const forged = await post('gh-decrypted', body, {
            'X-Hub-Signature-256': githubSignature('guess', body),
          });
          expect(forged.status).toBe(401);
          expect(hint()).toHaveLength(0);
          expect(
            (await post('gh-decrypted', body, { 'X-Hub-Signature-256': githubSignature(plain, body) }))
              .status,
          ).toBe(202);

          for (let i = 0; i < 2; i++) {
            const signed = await post('gh-encrypted', body, {
              'X-Hub-Signature-256': githubSignature(plain, body),
            });
            expect(signed.status).toBe(401);
            // The unauthenticated caller learns nothing about the rule's template.
            const fault = ((await signed.json()) as { faultstring: string }).faultstring;
            expect(fault).toContain('X-Hub-Signature-256 does not match the body');
            expect(fault).not.toContain('decrypt_kv');
          }
          // Two refused deliveries, one warning; it names the hook and the missing filter.
          expect(hint()).toHaveLength(1);
          const logged = JSON.stringify(hint()[0]);
          expect(logged).toContain('gh-encrypted');
          expect(logged).toContain('| decrypt_kv');
          expect(logged).not.toContain(plain);
          expect(logged).not.toContain(ciphertext.value);
          expect(JSON.stringify(warn.mock.calls)).not.toContain(plain);
        } finally {
          warn.mockRestore();
        }
      });

      it('the webhook list needs credentials and never shows the HMAC secret', async () => {
        expect((await fetch(`${api.url}/api/v1/webhooks`)).status).toBe(401);
        const list = await api.request('GET', '/api/v1/webhooks');
        const slack = (list.body as Array<{ url: string; parameters: { hmac?: { secret: string } } }>).find(
          (h) => h.url === 'slack/events',
        );
        expect(slack?.parameters.hmac?.secret).toBe('********');
      });

      it('an enforcement that fails on a criteria pattern rendered from a secret names the criterion, never the secret (an observer reads enforcements)', async () => {
        const key = await api.request('PUT', '/api/v1/keys/hook_token', {
          body: { value: 'hunter2(', secret: true },
        });
        expect(key.status, JSON.stringify(key.body)).toBeLessThan(300);
        const rule = await api.request('POST', '/api/v1/rules', {
          body: {
            name: 'token_check',
            pack: 'hooks',
            enabled: true,
            trigger: { type: 'core.st2.webhook', parameters: { url: 'token_check' } },
            criteria: {
              'trigger.body.token': { type: 'regex', pattern: '{{ st2kv.system.hook_token | decrypt_kv }}' },
            },
            action: { ref: 'core.noop' },
          },
        });
        expect(rule.status, JSON.stringify(rule.body)).toBe(201);
        const observer = await api.tokenFor('watcher', ['observer']);
        expect(
          (await api.request('POST', '/api/v1/webhooks/token_check', { body: { token: 'guess' } })).status,
        ).toBe(202);
        const enforcements = await waitFor(async () => {
          const res = await api.request('GET', '/api/v1/ruleenforcements?rule_ref=hooks.token_check', {
            token: observer,
          });
          return res.status === 200 && res.body.length ? res.body : undefined;
        }, 'the enforcement of hooks.token_check');
        expect(enforcements[0].status).toBe('failed');
        expect(enforcements[0].failure_reason).toContain('criterion "trigger.body.token"');
        expect(enforcements[0].failure_reason).toContain('Invalid regular expression');
        expect(enforcements[0].failure_reason).not.toContain('hunter2');
      });

      it('synchronous webhooks past api.max_waiting_webhooks_per_user (or api.max_waiting_webhooks) are 429 and dispatch nothing; an answer frees a place', async () => {
        const admin = { 'X-Auth-Token': api.adminToken };
        const other = { 'X-Auth-Token': await api.tokenFor('hook_sender', ['admin']) };
        const held: Array<Promise<Response>> = [];
        const hold = async (headers: Record<string, string>, count: number) => {
          held.push(post('slow?wait=120', '{}', headers));
          await waitFor(async () => (await instances('slow')) === count || null, `${count} slow instances`);
        };
        const refused = async (headers: Record<string, string>, limit: string, count: number) => {
          const res = await post('slow?wait=120', '{}', headers);
          expect(res.status).toBe(429);
          expect(((await res.json()) as { faultstring: string }).faultstring).toContain(`(${limit})`);
          expect(await instances('slow')).toBe(count);
        };
        await hold(admin, 1);
        await hold(admin, 2);
        await refused(admin, 'api.max_waiting_webhooks_per_user', 2);
        // Another user still has a place, until all users together hold api.max_waiting_webhooks.
        await hold(other, 3);
        await refused(other, 'api.max_waiting_webhooks', 3);
        // A webhook that does not wait is not counted.
        expect((await post('plain', '{}', admin)).status).toBe(202);

        const running = await waitFor(async () => {
          const list = (await api.request('GET', '/api/v1/executions?action=core.local&status=running'))
            .body as Array<{
            id: string;
          }>;
          return list.length === 3 ? list : null;
        }, '3 running sleeps');
        for (const e of running) await api.request('DELETE', `/api/v1/executions/${e.id}`);
        for (const res of await Promise.all(held)) expect(res.status).toBe(200);
        // The places are free again.
        const res = await post('plain?wait=30', '{}', admin);
        expect(res.status, await res.clone().text()).toBe(200);
      }, 90_000);
    },
  );
}
