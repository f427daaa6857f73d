import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { startEvents, type EventsService, type Json } from '../webhooks/support.js';

/** sample2_rule_with_webhook.yaml of seed 004, as `st2 rule create` posts it. */
const seedRule = (): Json => ({
  tags: [],
  uid: 'rule:ineat:sample_rule_with_webhook',
  metadata_file: '',
  name: 'sample_rule_with_webhook',
  ref: 'ineat.sample_rule_with_webhook',
  description: 'Sample rule dumping webhook payload to a file.',
  pack: 'ineat',
  type: { ref: 'standard', parameters: {} },
  trigger: {
    type: 'core.st2.webhook',
    parameters: { url: 'ineat' },
    ref: 'core.504f5fc7-72b7-4a6b-8759-3805c0a4296b',
    description: 'Trigger type for registering webhooks that can consume arbitrary payload.',
  },
  criteria: { 'trigger.body.name': { pattern: 'test', type: 'equals' } },
  action: {
    ref: 'core.local',
    parameters: {
      cmd: 'echo "{{trigger.body}}" >> /tmp/ineat.webhook_sample.out ; sync',
      sudo_password: 'Ch@ngeMe',
    },
    description: 'Action that executes an arbitrary Linux command on the localhost.',
  },
  context: { user: 'st2admin' },
  enabled: true,
  id: '5fa3b7abefbface9864e1fb7',
});

for (const target of STORE_TARGETS) {
  describeWithServer(
    `rules API (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let s: EventsService;
      beforeAll(async () => {
        s = await startEvents(target);
      }, 60_000);
      afterAll(async () => s?.svc.cleanup());

      it("creates the seed's rule from st2's rule JSON, lists, gets, disables and deletes it", async () => {
        const created = await s.createRule(seedRule());
        expect(created).toMatchObject({
          ref: 'ineat.sample_rule_with_webhook',
          pack: 'ineat',
          uid: 'rule:ineat:sample_rule_with_webhook',
          enabled: true,
          trigger: { type: 'core.st2.webhook', parameters: { url: 'ineat' } },
        });
        expect(created.id).not.toBe('5fa3b7abefbface9864e1fb7');
        expect(created.trigger.ref).toMatch(/^core\.[0-9a-f]{8}-[0-9a-f]{4}-/);

        const again = await s.api('POST', '/api/v1/rules', seedRule());
        expect(again.status).toBe(409);

        const list = (await s.api('GET', '/api/v1/rules?pack=ineat')).body as Json[];
        expect(list.map((r) => r.ref)).toEqual(['ineat.sample_rule_with_webhook']);
        const byId = await s.api('GET', `/api/v1/rules/${created.id}`);
        expect(byId.body.ref).toBe('ineat.sample_rule_with_webhook');
        const views = (await s.api('GET', '/api/v1/rules/views?pack=ineat')).body as Json[];
        expect(views[0].action.description).toContain('Linux command');
        // include_attributes picks fields of the view, whatever it names (a view of a picked rule
        // was a 500: schemathesis sent include_attributes=Ü)
        const picked = await s.api('GET', '/api/v1/rules/views?pack=ineat&include_attributes=action');
        expect(picked.status, picked.text).toBe(200);
        expect(Object.keys(picked.body[0]).sort()).toEqual(['action', 'id']);
        expect(picked.body[0].action.description).toContain('Linux command');
        const none = await s.api(
          'GET',
          `/api/v1/rules/views?pack=ineat&include_attributes=${encodeURIComponent('Ü')}`,
        );
        expect(none.status, none.text).toBe(200);
        expect(none.body).toEqual([{ id: created.id }]);

        // the webhook trigger record is bound with ref_count 1 (the examples pack binds the same url)
        const triggers = (await s.api('GET', '/api/v1/triggers?type=core.st2.webhook')).body as Json[];
        const bound = triggers.find((t) => t.ref === created.trigger.ref);
        expect(bound).toMatchObject({ type: 'core.st2.webhook', parameters: { url: 'ineat' }, ref_count: 2 });

        const disabled = await s.api('PUT', '/api/v1/rules/ineat.sample_rule_with_webhook', {
          ...byId.body,
          enabled: false,
        });
        expect(disabled.status, disabled.text).toBe(200);
        expect(disabled.body.enabled).toBe(false);
        expect((await s.api('GET', '/api/v1/webhooks/ineat')).body.rules).toEqual([
          'examples.sample_rule_with_webhook',
        ]);

        expect((await s.api('DELETE', '/api/v1/rules/ineat.sample_rule_with_webhook')).status).toBe(204);
        expect((await s.api('GET', '/api/v1/rules/ineat.sample_rule_with_webhook')).status).toBe(404);
        const after = (await s.api('GET', '/api/v1/triggers?type=core.st2.webhook')).body as Json[];
        expect(after.find((t) => t.ref === created.trigger.ref)?.ref_count).toBe(1);
      });

      it('pack defaults to "default"; errors name the field', async () => {
        const r = await s.createRule({
          name: 'no_pack',
          trigger: { type: 'core.st2.webhook', parameters: { url: 'np' } },
          action: { ref: 'core.noop' },
        });
        expect(r.ref).toBe('default.no_pack');
        expect(r.enabled).toBe(false);

        const bad = async (rule: Json) =>
          (await s.api('POST', '/api/v1/rules', rule)).body.faultstring as string;
        expect(await bad({ name: 'x', trigger: { type: 'core.st2.webhook' } })).toContain(
          'action: is required',
        );
        expect(
          await bad({ name: 'x', trigger: { type: 'nope.nope' }, action: { ref: 'core.noop' } }),
        ).toContain('trigger.type: unknown trigger type "nope.nope"');
        expect(
          await bad({
            name: 'x',
            trigger: { type: 'core.st2.webhook', parameters: {} },
            action: { ref: 'core.noop' },
          }),
        ).toContain('trigger.parameters.url: is required');
        // As st2's RuleAPI.to_model, the action is not looked up: the rule is created.
        const later = await s.api('POST', '/api/v1/rules', {
          name: 'names_missing_action',
          trigger: { type: 'core.st2.webhook', parameters: { url: 'a' } },
          action: { ref: 'slack.post_message', parameters: { channel: '#x' } },
        });
        expect(later.status, later.text).toBe(201);
        expect(later.body.action).toEqual({ ref: 'slack.post_message', parameters: { channel: '#x' } });
        expect(
          await bad({
            name: 'x',
            trigger: { type: 'core.st2.webhook', parameters: { url: 'a' } },
            criteria: { 'trigger.a': { type: 'sorta', pattern: 1 } },
            action: { ref: 'core.noop' },
          }),
        ).toContain('criteria.trigger.a.type: unknown operator "sorta"');
        expect(
          await bad({
            name: 'x',
            trigger: { type: 'core.st2.webhook', parameters: { url: 'a', hmac: { preset: 'github' } } },
            action: { ref: 'core.noop' },
          }),
        ).toContain('trigger.parameters.hmac.secret: is required');
      });

      it('a dotted rule name is accepted; unprintable and 100k-character names get a 400 naming the field', async () => {
        const rule = (name: string): Json => ({
          name,
          pack: 'names',
          trigger: { type: 'core.st2.webhook', parameters: { url: 'names' } },
          action: { ref: 'core.noop' },
        });
        expect((await s.createRule(rule('on.push'))).ref).toBe('names.on.push');
        const got = await s.api('GET', '/api/v1/rules/names.on.push');
        expect(got.status).toBe(200);
        expect(got.body.name).toBe('on.push');
        for (const name of ['nul\u0000name', 'bidi\u202Eexe', 'tab\tname', 'x'.repeat(100_000)]) {
          const r = await s.api('POST', '/api/v1/rules', rule(name));
          expect(r.status).toBe(400);
          expect(r.body.faultstring).toMatch(/name: must (be printable characters|NOT have more than 255)/);
        }
      });

      it('a rule named as a sentence (cisco_aci\'s "Setup ACI EPG") is created, got by its ref and fires', async () => {
        const trigger = { type: 'core.st2.webhook', parameters: { url: 'aci_epg' } };
        const rule = { name: 'Setup ACI EPG', pack: 'aci', enabled: true, trigger };
        const created = await s.createRule({ ...rule, action: { ref: 'core.noop' } });
        expect(created.ref).toBe('aci.Setup ACI EPG');
        const got = await s.api('GET', `/api/v1/rules/${encodeURIComponent('aci.Setup ACI EPG')}`);
        expect(got.status, got.text).toBe(200);
        expect(got.body.id).toBe(created.id);
        const sent = await s.api('POST', '/api/v1/webhooks/aci_epg', { epg: 'web' });
        expect(sent.status, sent.text).toBe(202);
        const { store } = s.svc.services;
        const enforcement = await waitFor(
          async () => (await store.ruleEnforcements.find({ 'rule.ref': 'aci.Setup ACI EPG' }))[0],
          'the rule to be enforced',
        );
        expect(enforcement.execution_id).toBeTruthy();
        const execution = await s.finished(String(enforcement.execution_id));
        expect(execution).toMatchObject({ status: 'succeeded', action: { ref: 'core.noop' } });
        expect(execution.context.rule).toMatchObject({ ref: 'aci.Setup ACI EPG' });
      });

      it('rule types and the trigger types API (create, update, delete)', async () => {
        expect(((await s.api('GET', '/api/v1/ruletypes')).body as Json[]).map((t) => t.name)).toEqual([
          'standard',
          'backstop',
        ]);
        const tt = await s.api('POST', '/api/v1/triggertypes', {
          name: 'thing',
          pack: 'mine',
          description: 'a thing',
        });
        expect(tt.status, tt.text).toBe(201);
        expect(tt.body.ref).toBe('mine.thing');
        // The API is strict, as st2's TriggerTypeAPI is; only pack files drop unknown fields.
        const extra = await s.api('POST', '/api/v1/triggertypes', { name: 'other', payload_info: ['a'] });
        expect(extra.status).toBe(400);
        expect(extra.text).toContain('payload_info: unknown field');
        const up = await s.api('PUT', '/api/v1/triggertypes/mine.thing', {
          name: 'thing',
          description: 'changed',
        });
        expect(up.body.description).toBe('changed');
        expect((await s.api('GET', '/api/v1/triggertypes/mine.thing')).body.description).toBe('changed');
        expect((await s.api('DELETE', '/api/v1/triggertypes/core.st2.webhook')).status).toBe(400);
        expect((await s.api('DELETE', '/api/v1/triggertypes/mine.thing')).status).toBe(204);
        expect((await s.api('GET', '/api/v1/triggertypes/mine.thing')).status).toBe(404);
      });

      it('trigger instances: list with filters, get, and re-emit processes a copy', async () => {
        await s.api('POST', '/api/v1/triggertypes', { name: 'ping', pack: 'mine' });
        const send = await s.api('POST', '/api/v1/webhooks/st2', { trigger: 'mine.ping', payload: { n: 1 } });
        expect(send.status).toBe(202);
        const list = (await s.api('GET', '/api/v1/triggerinstances?trigger=mine.ping')).body as Json[];
        expect(list).toHaveLength(1);
        const original = await s.processed(list[0].id);
        expect(original).toMatchObject({ trigger: 'mine.ping', payload: { n: 1 }, status: 'processed' });
        expect(
          (await s.api('GET', `/api/v1/triggerinstances?trigger=mine.ping&status=pending`)).body,
        ).toEqual([]);
        const future = new Date(Date.now() + 3600_000).toISOString();
        expect(
          (await s.api('GET', `/api/v1/triggerinstances?trigger=mine.ping&timestamp_gt=${future}`)).body,
        ).toEqual([]);

        const re = await s.api('POST', `/api/v1/triggerinstances/${original.id}/re_emit`);
        expect(re.status, re.text).toBe(200);
        expect(re.body.message).toContain(original.id);
        const copy = await s.processed(re.body.trigger_instance.id);
        expect(copy).toMatchObject({ trigger: 'mine.ping', payload: { n: 1 }, re_emit_of: original.id });
        expect((await s.api('GET', '/api/v1/triggerinstances?trigger=mine.ping')).body).toHaveLength(2);
      });
    },
  );
}
