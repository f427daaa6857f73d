import { afterAll, beforeAll, expect, it } from 'vitest';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { newId } from '../../../src/ids.js';
import { eventsSubsystem } from '../../../src/rules/index.js';
import { notifierSubsystem } from '../../../src/notifier/index.js';
import { startTestApi, type TestApi } from '../../support/api.js';
import { STORE_TARGETS, describeWithServer, freshMongoUrl } from '../../support/servers.js';
import { testSecretsSubsystem } from '../../support/test-service.js';
import { rbacGlue } from '../inquiries/helpers.js';

type Json = Record<string, any>;

/** A webhook rule as the UI's editor builds it (not saved: the test endpoint never stores it). */
const draftRule = (): Json => ({
  name: 'deploy_on_push',
  pack: 'ci',
  enabled: true,
  trigger: { type: 'core.st2.webhook', parameters: { url: 'ci/push' } },
  criteria: {
    'trigger.body.branch': { type: 'equals', pattern: 'main' },
    'trigger.body.commits': { type: 'gt', pattern: 0 },
  },
  action: {
    ref: 'core.local',
    parameters: {
      cmd: 'echo deploying {{ trigger.body.branch }}',
      sudo_password: 'Ch@ngeMe',
      env: { WHO: 'built by Ch@ngeMe' },
    },
  },
});

for (const target of STORE_TARGETS) {
  describeWithServer(
    `POST /api/v1/rules/test (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let api: TestApi;
      const test = (body: unknown, token?: string | null) =>
        api.request('POST', '/api/v1/rules/test', { body, token });

      beforeAll(async () => {
        const executions = executionsSubsystem();
        api = await startTestApi({
          subsystems: [
            testSecretsSubsystem(),
            rbacGlue,
            contentSubsystem(),
            executions,
            eventsSubsystem(() => executions.service()),
            notifierSubsystem(
              () => executions.service(),
              () => undefined,
            ),
          ],
          mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
        });
      }, 60_000);
      afterAll(async () => api?.stop());

      it('reports a match with every criterion and the rendered parameters, secrets masked, and stores nothing', async () => {
        const res = await test({
          rule: draftRule(),
          trigger_instance: { payload: { body: { branch: 'main', commits: 3 }, headers: {} } },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body).toMatchObject({
          rule: 'ci.deploy_on_push',
          matches: true,
          action: 'core.local',
          trigger_instance: { trigger: 'core.st2.webhook' },
        });
        expect(res.body.criteria.map((c: Json) => [c.key, c.matched])).toEqual([
          ['trigger.body.branch', true],
          ['trigger.body.commits', true],
        ]);
        expect(res.body.parameters.cmd).toBe('echo deploying main');
        // sudo_password is a secret runner parameter; env carries its value, so it is masked too
        expect(res.body.parameters.sudo_password).toBe('********');
        expect(res.body.parameters.env).toBe('********');
        expect(JSON.stringify(res.body)).not.toContain('Ch@ngeMe');
        expect((await api.request('GET', '/api/v1/rules/ci.deploy_on_push')).status).toBe(404);
      });

      it('reports no match and names the failing criterion with the payload value', async () => {
        const res = await test({
          rule: draftRule(),
          trigger_instance: { trigger: 'core.st2.webhook', payload: { body: { branch: 'dev', commits: 3 } } },
        });
        expect(res.status).toBe(200);
        expect(res.body.matches).toBe(false);
        expect(res.body.failed).toMatchObject({
          key: 'trigger.body.branch',
          operator: 'equals',
          pattern: 'main',
          value: 'dev',
        });
        expect(res.body.parameters).toBeUndefined();
      });

      it("says so when the instance's trigger is not the rule's", async () => {
        const res = await test({
          rule: draftRule(),
          trigger_instance: { trigger: 'core.st2.CronTimer', payload: {} },
        });
        expect(res.status).toBe(200);
        expect(res.body.matches).toBe(false);
        expect(res.body.trigger_mismatch).toContain('core.st2.CronTimer');
      });

      it('tests against a stored trigger instance by id; an unknown id is a 404', async () => {
        const rule = {
          ...draftRule(),
          trigger: { type: 'squall.test_ping' },
          criteria: { 'trigger.n': { type: 'gt', pattern: 1 } },
          action: { ref: 'core.noop' },
        };
        expect(
          (await api.request('POST', '/api/v1/triggertypes', { body: { name: 'test_ping', pack: 'squall' } }))
            .status,
        ).toBe(201);
        const sent = await api.request('POST', '/api/v1/webhooks/st2', {
          body: { trigger: 'squall.test_ping', payload: { n: 2 } },
        });
        expect(sent.status).toBe(202);
        const [instance] = await api.services.store.triggerInstances.find({ trigger: 'squall.test_ping' });
        expect(instance).toBeDefined();

        const res = await test({ rule, trigger_instance_id: instance.id });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body).toMatchObject({
          matches: true,
          trigger_instance: { id: instance.id, payload: { n: 2 } },
        });

        const unknown = newId();
        const missing = await test({ rule, trigger_instance_id: unknown });
        expect(missing.status).toBe(404);
        expect(missing.body.faultstring).toBe(`TriggerInstance "${unknown}" was not found`);
        expect((await test({ rule, trigger_instance_id: 'nope' })).status).toBe(404);
      });

      it('answers 400 naming the field for a bad rule or a bad request', async () => {
        const fault = async (body: unknown) => {
          const res = await test(body);
          expect(res.status, JSON.stringify(res.body)).toBe(400);
          return res.body.faultstring as string;
        };
        const payload = { payload: {} };
        expect(
          await fault({
            rule: { ...draftRule(), criteria: { 'trigger.a': { type: 'sorta', pattern: 1 } } },
            trigger_instance: payload,
          }),
        ).toContain('criteria.trigger.a.type: unknown operator "sorta"');
        expect(
          await fault({
            rule: { ...draftRule(), trigger: { type: 'core.st2.webhook' } },
            trigger_instance: payload,
          }),
        ).toContain('trigger.parameters.url: is required');
        expect(await fault({ rule: draftRule() })).toContain(
          'give exactly one of trigger_instance_id or trigger_instance',
        );
        expect(
          await fault({ rule: draftRule(), trigger_instance: payload, trigger_instance_id: newId() }),
        ).toContain('give exactly one of trigger_instance_id or trigger_instance');
        expect(await fault({ trigger_instance: payload })).toContain('"rule" is required');
      });

      it('RBAC: rule_view is enough (an observer may test), a user without it is refused', async () => {
        const body = {
          rule: draftRule(),
          trigger_instance: { payload: { body: { branch: 'main', commits: 1 } } },
        };
        const observer = await api.tokenFor('olga', ['observer']);
        const ok = await test(body, observer);
        expect(ok.status, JSON.stringify(ok.body)).toBe(200);
        expect(ok.body.matches).toBe(true);
        const nobody = await api.tokenFor('nora', []);
        const refused = await test(body, nobody);
        expect(refused.status).toBe(403);
        expect(refused.body.faultstring).toContain('rule_view');
        expect((await test(body, null)).status).toBe(401);
      });
    },
  );
}
