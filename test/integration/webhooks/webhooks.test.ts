import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { idAt, idFor, newId } from '../../../src/ids.js';
import { STORE_TARGETS, describeWithServer, tempDir } from '../../support/servers.js';
import { readsDuring } from '../../support/reads.js';
import { waitFor } from '../../support/wait.js';
import { instancesOf, listenToActionTrigger, startEvents, type EventsService, type Json } from './support.js';

/** The rule of seed scenario 1, exactly as `st2 rule get -j` printed it (st2 rule create FILE posts this). */
function seedRule(outFile: string): Json {
  return {
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
      parameters: { cmd: `echo "{{trigger.body}}" >> ${outFile} ; sync`, sudo_password: 'Ch@ngeMe' },
      description: 'Action that executes an arbitrary Linux command on the localhost.',
    },
    context: { user: 'st2admin' },
    enabled: true,
    id: '5fa3b7abefbface9864e1fb7',
  };
}

const githubSignature = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

for (const target of STORE_TARGETS) {
  describeWithServer(`webhooks (${target.kind})`, 'MongoDB (SQUALL_TEST_MONGO_URL)', target.available, () => {
    let s: EventsService;
    const tmp = tempDir('squall-webhook-');
    const outFile = path.join(tmp.dir, 'ineat.webhook_sample.out');

    beforeAll(async () => {
      // st2's action trigger instance for every execution (off by default: issue 19's disk per event).
      s = await startEvents(target, {
        'webhooks.max_body_bytes': 4096,
        'rules.store_unheard_actiontrigger': true,
      });
      // The bundled examples pack has the same rule writing to /tmp; keep it quiet.
      const ex = await s.api('GET', '/api/v1/rules/examples.sample_rule_with_webhook');
      expect(ex.status, ex.text).toBe(200);
      const off = await s.api('PUT', '/api/v1/rules/examples.sample_rule_with_webhook', {
        ...ex.body,
        enabled: false,
      });
      expect(off.status, off.text).toBe(200);
      await s.createRule(seedRule(outFile));
    }, 60_000);
    afterAll(async () => {
      await s?.svc.cleanup();
      tmp.cleanup();
    });

    /** A rule of pack hooks on the webhook `url` running `action` (core.noop). */
    const webhookRule = (name: string, url: string, action: Json = { ref: 'core.noop' }) =>
      s.createRule({
        name,
        pack: 'hooks',
        enabled: true,
        trigger: { type: 'core.st2.webhook', parameters: { url } },
        action,
      });
    /**
     * Posts `body` to the webhook `url`, whose one rule (webhookRule) it waits to process: that
     * rule's enforcement of the instance.
     */
    const enforcementOf = async (url: string, body: Json): Promise<Json> => {
      expect((await s.api('POST', `/api/v1/webhooks/${url}`, body)).status).toBe(202);
      const [ti] = await instancesOf(s, url);
      expect((await s.processed(ti.id)).status).toBe('processed');
      const [enf] = (await s.api('GET', `/api/v1/ruleenforcements?trigger_instance=${ti.id}`)).body;
      return enf;
    };
    /** Posts to `url` waiting for its one execution (core.noop), whose id it gives. */
    const noopRun = async (url: string): Promise<string> => {
      const res = await s.api('POST', `/api/v1/webhooks/${url}?wait=30`, { n: 1 });
      expect(res.status, res.text).toBe(200);
      expect(res.body.executions[0].status).toBe('succeeded');
      return res.body.executions[0].id as string;
    };

    it('seed scenario 1: a webhook with name "test" runs core.local and the file holds the body', async () => {
      const body = { foo: 'bar', name: 'test' };
      const res = await s.api('POST', '/api/v1/webhooks/ineat', body);
      expect(res.status, res.text).toBe(202);
      expect(res.body).toEqual(body);
      const [instance] = await instancesOf(s, 'ineat');
      expect(instance.payload.body).toEqual(body);
      await s.processed(instance.id);
      const enforcements = (await s.api('GET', `/api/v1/ruleenforcements?trigger_instance=${instance.id}`))
        .body;
      expect(enforcements).toHaveLength(1);
      expect(enforcements[0]).toMatchObject({
        status: 'succeeded',
        rule: { ref: 'ineat.sample_rule_with_webhook' },
      });
      const execution = await s.finished(enforcements[0].execution_id);
      expect(execution.status).toBe('succeeded');
      expect(execution.rule.ref).toBe('ineat.sample_rule_with_webhook');
      expect(execution.trigger_instance.id).toBe(instance.id);
      expect(execution.context.user).toBe('stanley');
      expect(readFileSync(outFile, 'utf8')).toContain("{'foo': 'bar', 'name': 'test'}");
    });

    it('seed scenario 1: with name "other" the instance is processed and nothing runs', async () => {
      const res = await s.api('POST', '/api/v1/webhooks/ineat/', { foo: 'bar', name: 'other' });
      expect(res.status).toBe(202);
      const [instance] = await instancesOf(s, 'ineat');
      expect(instance.payload.body.name).toBe('other');
      const done = await s.processed(instance.id);
      expect(done.status).toBe('processed');
      expect((await s.api('GET', `/api/v1/ruleenforcements?trigger_instance=${instance.id}`)).body).toEqual(
        [],
      );
      expect((await s.api('GET', `/api/v1/executions?trigger_instance=${instance.id}`)).body).toEqual([]);
    });

    it('form-encoded bodies become objects; an unknown hook is 404 and lists show the registered hooks', async () => {
      const res = await s.api('POST', '/api/v1/webhooks/ineat', 'name=other&x=1', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(res.status).toBe(202);
      const [instance] = await instancesOf(s, 'ineat');
      expect(instance.payload.body).toEqual({ name: 'other', x: '1' });
      const missing = await s.api('POST', '/api/v1/webhooks/nope', { a: 1 });
      expect(missing.status).toBe(404);
      expect(missing.body.faultstring).toContain('nope');
      const list = (await s.api('GET', '/api/v1/webhooks')).body as Json[];
      expect(list.map((h) => h.url)).toContain('ineat');
      expect((await s.api('GET', '/api/v1/webhooks/ineat')).body.rules).toEqual([
        'ineat.sample_rule_with_webhook',
      ]);
    });

    it('a body over webhooks.max_body_bytes is refused with 413 and dispatches nothing', async () => {
      const before = (await instancesOf(s, 'ineat')).length;
      const res = await s.api('POST', '/api/v1/webhooks/ineat', { name: 'test', blob: 'x'.repeat(5000) });
      expect(res.status).toBe(413);
      expect(res.body.faultstring).toContain('webhooks.max_body_bytes');
      expect((await instancesOf(s, 'ineat')).length).toBe(before);
    });

    it('a gzip bomb (1 KB inflating to 10 MB) is cut at webhooks.max_body_bytes with a 413, and the server answers on', async () => {
      const bomb = gzipSync(Buffer.from(JSON.stringify({ name: 'test', blob: 'x'.repeat(10_000_000) })));
      expect(bomb.length).toBeLessThan(20_000);
      const before = (await instancesOf(s, 'ineat')).length;
      const res = await fetch(`${s.svc.url}/api/v1/webhooks/ineat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: bomb,
      });
      expect(res.status).toBe(413);
      const body = (await res.json()) as { code: string; faultstring: string };
      expect(body.code).toBe('WEBHOOK_BODY_TOO_LARGE');
      expect(body.faultstring).toBe(
        'webhook body, once decompressed, exceeds webhooks.max_body_bytes (4096)',
      );
      expect((await instancesOf(s, 'ineat')).length).toBe(before);
      expect((await s.api('GET', '/api/v1/health')).status).toBe(200);
    });

    it('synchronous mode (?wait=) answers 200 with the execution results', async () => {
      await webhookRule('sync_echo', 'sync', {
        ref: 'core.local',
        parameters: { cmd: 'echo hello {{ trigger.body.who }}' },
      });
      const res = await s.api('POST', '/api/v1/webhooks/sync?wait=30', { who: 'world' });
      expect(res.status, res.text).toBe(200);
      expect(res.body.executions).toHaveLength(1);
      expect(res.body.executions[0]).toMatchObject({
        status: 'succeeded',
        result: { stdout: 'hello world' },
      });
    });

    it('HMAC (github preset): missing or bad signatures get 401 and no instance; a good one dispatches once per delivery id', async () => {
      const secret = 's3cr3t';
      const rule = await s.createRule({
        name: 'signed',
        pack: 'hooks',
        enabled: true,
        trigger: { type: 'core.st2.webhook', parameters: { url: 'gh', hmac: { secret, preset: 'github' } } },
        action: { ref: 'core.noop' },
      });
      expect(rule.trigger.parameters.hmac.secret).toBe('********');
      const body = JSON.stringify({ action: 'opened', number: 7 });
      const json = { 'content-type': 'application/json' };

      const missing = await s.api('POST', '/api/v1/webhooks/gh', body, json);
      expect(missing.status).toBe(401);
      expect(missing.body.faultstring).toContain('X-Hub-Signature-256');
      const bad = await s.api('POST', '/api/v1/webhooks/gh', body, {
        ...json,
        'X-Hub-Signature-256': githubSignature('wrong', body),
      });
      expect(bad.status).toBe(401);
      expect(await instancesOf(s, 'gh')).toHaveLength(0);

      const headers = {
        ...json,
        'X-Hub-Signature-256': githubSignature(secret, body),
        'X-GitHub-Delivery': 'd-1',
      };
      const good = await s.api('POST', '/api/v1/webhooks/gh', body, headers);
      expect(good.status, good.text).toBe(202);
      expect(good.body).toEqual({ action: 'opened', number: 7 });
      const again = await s.api('POST', '/api/v1/webhooks/gh', body, headers);
      expect(again.status).toBe(202);
      expect(again.body).toEqual(good.body);
      const instances = await instancesOf(s, 'gh');
      expect(instances).toHaveLength(1);
      expect(instances[0].payload.headers['x-github-delivery']).toBe('d-1');
      await s.processed(instances[0].id);
    });

    it('a redelivery whose first attempt died before answering dispatches what that attempt did not store, once', async () => {
      await webhookRule('delivered', 'deliveries');
      const { store } = s.svc.services;
      const send = (delivery: string) =>
        s.api('POST', '/api/v1/webhooks/deliveries', { n: delivery }, { 'X-Request-Id': delivery });
      const claimOf = (delivery: string) => `webhook:deliveries:x-request-id:${delivery}`;
      const enforcementsOf = async (instanceId: string) =>
        (await s.api('GET', `/api/v1/ruleenforcements?trigger_instance=${instanceId}`)).body as Json[];

      // Died after claiming the delivery id, before storing the instance.
      expect(await store.claim(claimOf('r-1'), 'webhook:999999')).toBe(true);
      const first = await send('r-1');
      expect(first.status).toBe(202);
      expect(first.headers.get('x-squall-redelivery')).toBe('true');
      const [lost] = (await instancesOf(s, 'deliveries')).filter((i) => i.payload.body.n === 'r-1');
      expect(lost).toBeTruthy();
      await s.processed(lost.id);

      // Died after storing the instance, before handing it to the rules engine or answering.
      expect(await store.claim(claimOf('r-2'), 'webhook:999999')).toBe(true);
      /** What the dead attempt stored of delivery `n`: its instance, under `id`. */
      const storedByDead = (n: string, id: string) =>
        store.triggerInstances.insert({
          id,
          trigger: (lost as Json).trigger,
          trigger_type: 'core.st2.webhook',
          payload: { headers: {}, body: { n } },
          occurrence_time: new Date().toISOString(),
          status: 'pending',
          source: 'webhook:deliveries',
        } as never);
      await storedByDead('r-2', idFor(`${claimOf('r-2')}:0`));
      expect((await send('r-2')).status).toBe(202);
      expect((await send('r-2')).status).toBe(202);
      const stored = (await instancesOf(s, 'deliveries')).filter((i) => i.payload.body.n === 'r-2');
      expect(stored).toHaveLength(1);
      await s.processed(stored[0].id);
      expect(await enforcementsOf(stored[0].id)).toHaveLength(1);
      expect(await enforcementsOf(lost.id)).toHaveLength(1);

      // The same, the instance named as this version names it: after the time of the claim.
      const at = new Date(Date.now() - 60_000).toISOString();
      expect(await store.claim(claimOf('r-3'), 'webhook:999999', at)).toBe(true);
      await storedByDead('r-3', idAt(`${claimOf('r-3')}:0`, at));
      expect((await send('r-3')).status).toBe(202);
      expect((await send('r-3')).status).toBe(202);
      const third = (await instancesOf(s, 'deliveries')).filter((i) => i.payload.body.n === 'r-3');
      expect(third.map((i) => i.id)).toEqual([idAt(`${claimOf('r-3')}:0`, at)]);
      await s.processed(third[0].id);
      expect(await enforcementsOf(third[0].id)).toHaveLength(1);

      // A delivery's instance id leads with its claim's time: deliveries in a row land side by side
      // in the instances' index, and the id reads as its creation time as newId's do.
      const before = Math.floor(Date.now() / 1000);
      expect((await send('r-4')).status).toBe(202);
      const [fourth] = (await instancesOf(s, 'deliveries')).filter((i) => i.payload.body.n === 'r-4');
      const claim = await store.claims.get(claimOf('r-4'));
      expect(fourth.id).toBe(idAt(`${claimOf('r-4')}:0`, claim!.claimed_at));
      expect(parseInt(fourth.id.slice(0, 8), 16)).toBeGreaterThanOrEqual(before);
      expect(parseInt(fourth.id.slice(0, 8), 16)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
    });

    it('a redelivery reads the instances its first attempt stored once (one find), not again by id in dispatch', async () => {
      await webhookRule('read_once', 'read-once');
      const { store } = s.svc.services;
      const claim = 'webhook:read-once:x-request-id:once-1';
      const at = new Date(Date.now() - 60_000).toISOString();
      // The first attempt claimed the delivery, stored and processed its instance, and died before answering.
      expect(await store.claim(claim, 'webhook:999999', at)).toBe(true);
      const id = idAt(`${claim}:0`, at);
      const trigger = (await s.api('GET', '/api/v1/rules/hooks.read_once')).body.trigger.ref;
      await store.triggerInstances.insert({
        id,
        trigger,
        trigger_type: 'core.st2.webhook',
        payload: { headers: {}, body: { n: 'once-1' } },
        occurrence_time: at,
        status: 'processed',
        source: 'webhook:read-once',
      } as never);
      let res: Awaited<ReturnType<typeof s.api>> | undefined;
      const reads = await readsDuring(store.triggerInstances, async () => {
        res = await s.api(
          'POST',
          '/api/v1/webhooks/read-once',
          { n: 'once-1' },
          { 'X-Request-Id': 'once-1' },
        );
      });
      expect(res?.status, res?.text).toBe(202);
      expect(res?.headers.get('x-squall-redelivery')).toBe('true');
      expect(reads).toEqual([]);
      expect((await instancesOf(s, 'read-once')).map((i) => i.id)).toEqual([id]);
    });

    it("the rules engine takes the webhook's instance from its dispatch, not read back from the store", async () => {
      await webhookRule('instance_once', 'instance-once');
      const { store } = s.svc.services;
      let executionId = '';
      const reads = await readsDuring(store.triggerInstances, async () => {
        executionId = await noopRun('instance-once');
      });
      const execution = await s.api('GET', `/api/v1/executions/${executionId}`);
      const instanceId = execution.body.context.trigger_instance.id;
      expect(instanceId).toMatch(/^[0-9a-f]{24}$/);
      expect(reads).not.toContain(instanceId);
    });

    it("a rule-fired execution's action trigger finds its trace without reading the execution's trace entry", async () => {
      await webhookRule('trace_once', 'trace-once');
      const { store } = s.svc.services;
      let executionId = '';
      const reads = await readsDuring(store.traceComponents, async () => {
        executionId = await noopRun('trace-once');
        // The action trigger's instance is stored under the execution's id once it completed.
        await waitFor(() => store.triggerInstances.get(executionId), 'the action trigger instance');
      });
      expect(reads).toEqual([]);
      const instance = await store.triggerInstances.get(executionId);
      const trace = (await s.api('GET', `/api/v1/traces?execution=${executionId}`)).body[0];
      expect((instance?.trace_context as { trace_id?: string }).trace_id).toBe(trace.id);
    });

    it('the st2 hook dispatches any trigger type; the trace links tag → instance → enforcement → execution', async () => {
      const tt = await s.api('POST', '/api/v1/triggertypes', {
        name: 'event',
        pack: 'hooks',
        payload_schema: { type: 'object', properties: { level: { type: 'integer' } } },
      });
      expect(tt.status, tt.text).toBe(201);
      await s.createRule({
        name: 'level_one',
        pack: 'hooks',
        enabled: true,
        trigger: { type: 'hooks.event' },
        criteria: { 'trigger.level': { type: 'equals', pattern: 1 } },
        action: { ref: 'core.local', parameters: { cmd: 'echo level {{ trigger.level }}' } },
      });
      const res = await s.api(
        'POST',
        '/api/v1/webhooks/st2',
        { trigger: 'hooks.event', payload: { level: 1 } },
        { 'St2-Trace-Tag': 'deploy-42' },
      );
      expect(res.status, res.text).toBe(202);
      const traces = (await s.api('GET', '/api/v1/traces?trace_tag=deploy-42')).body as Json[];
      expect(traces).toHaveLength(1);
      const instanceId = traces[0].trigger_instances[0].object_id;
      await s.processed(instanceId);
      const [enf] = (await s.api('GET', `/api/v1/ruleenforcements?trigger_instance=${instanceId}`)).body;
      expect(enf.status).toBe('succeeded');
      await s.finished(enf.execution_id);
      const trace = await waitFor(async () => {
        const t = (await s.api('GET', `/api/v1/traces/${traces[0].id}`)).body;
        return t.action_executions.length > 0 ? t : null;
      }, 'the execution in the trace');
      expect(trace.rules).toEqual([
        expect.objectContaining({
          ref: 'hooks.level_one',
          caused_by: { type: 'trigger_instance', id: instanceId },
          rule_enforcement_id: enf.id,
        }),
      ]);
      expect(trace.action_executions[0]).toMatchObject({
        object_id: enf.execution_id,
        caused_by: { type: 'rule', id: `${enf.rule.id}:${instanceId}` },
      });
      const byExecution = (await s.api('GET', `/api/v1/traces?execution=${enf.execution_id}`)).body;
      expect(byExecution.map((t: Json) => t.id)).toEqual([traces[0].id]);
      // the same trace as a tree, from the execution and from the enforcement
      for (const q of [`execution=${enf.execution_id}`, `rule_enforcement=${enf.id}`]) {
        const tree = await s.api('GET', `/api/v1/traces/views/tree?${q}`);
        expect(tree.status, tree.text).toBe(200);
        expect(tree.body.trace).toMatchObject({ id: traces[0].id, trace_tag: 'deploy-42' });
        const path = (n: Json): string[] => [
          `${n.kind}:${n.id}`,
          ...(n.children[0] ? path(n.children[0]) : []),
        ];
        expect(path(tree.body.roots[0])).toEqual(
          expect.arrayContaining([
            `trigger_instance:${instanceId}`,
            `rule_enforcement:${enf.id}`,
            `execution:${enf.execution_id}`,
          ]),
        );
      }
      expect(
        (await s.api('GET', '/api/v1/traces/views/tree?execution=000000000000000000000000')).status,
      ).toBe(404);

      const invalid = await s.api('POST', '/api/v1/webhooks/st2', {
        trigger: 'hooks.event',
        payload: { level: 'high' },
      });
      expect(invalid.status).toBe(400);
      expect(invalid.body.faultstring).toContain('payload.level');
    });

    it('backstop rules fire only when no standard rule matched', async () => {
      await s.createRule({
        name: 'catch_all',
        pack: 'hooks',
        enabled: true,
        type: { ref: 'backstop' },
        trigger: { type: 'hooks.event' },
        action: { ref: 'core.noop' },
      });
      const send = async (level: number) => {
        // A marker picks this send's instance out of the others of hooks.event in this file.
        const marker = `backstop-${level}-${Date.now()}`;
        await s.api('POST', '/api/v1/webhooks/st2', { trigger: 'hooks.event', payload: { level, marker } });
        const recent = await s.svc.services.store.triggerInstances.find(
          { trigger: 'hooks.event' },
          { sort: { occurrence_time: -1 }, limit: 50 },
        );
        const ti = recent.find((i) => (i.payload as { marker?: string })?.marker === marker)!;
        expect(ti, 'the trigger instance of this send').toBeTruthy();
        await s.processed(ti.id);
        const enf = (await s.api('GET', `/api/v1/ruleenforcements?trigger_instance=${ti.id}`)).body as Json[];
        return enf.map((e) => e.rule.ref).sort();
      };
      expect(await send(1)).toEqual(['hooks.level_one']);
      expect(await send(2)).toEqual(['hooks.catch_all']);
    });

    it('a rule naming an action that is not installed is created, and its enforcement fails naming the action', async () => {
      await webhookRule('needs_slack', 'needs_slack', {
        ref: 'slack.post_message',
        parameters: { message: '{{ trigger.body.text }}' },
      });
      const enf = await enforcementOf('needs_slack', { text: 'hi' });
      expect(enf.rule.ref).toBe('hooks.needs_slack');
      expect(enf.status).toBe('failed');
      expect(enf.execution_id).toBeUndefined();
      expect(enf.failure_reason).toContain('slack.post_message');
    });

    it('an enforcement whose parameters fail to render is stored as failed with the reason', async () => {
      await webhookRule('bad_template', 'bad', {
        ref: 'core.local',
        parameters: { cmd: '{{ trigger.body | no_such_filter }}' },
      });
      const enf = await enforcementOf('bad', { a: 1 });
      expect(enf.status).toBe('failed');
      expect(enf.execution_id).toBeUndefined();
      expect(enf.failure_reason).toContain('action parameter "cmd"');
      expect(enf.failure_reason).toContain('no_such_filter');
    });

    it("an enforcement's reason never quotes a secret parameter's value, even where another parameter holds it", async () => {
      await webhookRule('secret_timeout', 'secret_timeout', {
        ref: 'core.local',
        parameters: {
          cmd: 'true',
          sudo_password: '{{ trigger.body.pw }}',
          timeout: '{{ trigger.body.pw }}',
        },
      });
      const pw = `pw-${Date.now()}-heron`;
      const enf = await enforcementOf('secret_timeout', { pw });
      expect(enf.status).toBe('failed');
      expect(enf.failure_reason).toContain('Parameter "');
      expect(enf.failure_reason).toContain('********');
      expect(JSON.stringify(enf)).not.toContain(pw);
    });

    it("an enforcement whose action refuses a parameter names the action in its reason ('core.local: …')", async () => {
      await webhookRule('bad_timeout', 'bad_timeout', {
        ref: 'core.local',
        parameters: { cmd: 'true', timeout: -5, nosuch: 1 },
      });
      const enf = await enforcementOf('bad_timeout', {});
      expect(enf.status).toBe('failed');
      expect(enf.failure_reason).toContain(
        `core.local: Additional properties are not allowed ('nosuch' was unexpected)`,
      );
    });

    it('a trace with its lists reads as stored, and an execution that joins it later is listed after them', async () => {
      const old = {
        id: newId(),
        trace_tag: 'before-upgrade',
        start_timestamp: '2026-01-02T03:04:05.000Z',
        trigger_instances: [
          { object_id: newId(), ref: 'core.st2.webhook', updated_at: '2026-01-02T03:04:05.000Z' },
        ],
        rules: [
          {
            object_id: newId(),
            ref: 'pack.rule',
            caused_by: { type: 'trigger_instance', id: 'x' },
            updated_at: '2026-01-02T03:04:05.010Z',
          },
        ],
        action_executions: [
          {
            object_id: newId(),
            ref: 'core.noop',
            caused_by: { type: 'rule', id: 'r:x' },
            updated_at: '2026-01-02T03:04:05.020Z',
          },
        ],
      };
      await s.svc.services.store.traces.insert(old as never);
      const res = await s.api('POST', '/api/v1/executions', {
        action: 'core.noop',
        parameters: {},
        context: { trace_context: { trace_id: old.id } },
      });
      expect(res.status, res.text).toBe(201);
      await s.finished(res.body.id);

      // Its action trigger's instance joins too (written with the completion, read just after it).
      const got = await waitFor(async () => {
        const t = (await s.api('GET', `/api/v1/traces/${old.id}`)).body as Json;
        return t.trigger_instances.length > 1 ? t : null;
      }, 'the action trigger instance in the trace');
      expect(got).toMatchObject({
        id: old.id,
        trace_tag: 'before-upgrade',
        start_timestamp: old.start_timestamp,
        trigger_instances: [
          ...old.trigger_instances,
          {
            object_id: res.body.id,
            ref: 'core.st2.generic.actiontrigger',
            caused_by: { type: 'action_execution', id: res.body.id },
          },
        ],
        rules: old.rules,
      });
      expect(got.action_executions).toEqual([
        old.action_executions[0],
        expect.objectContaining({ object_id: res.body.id, ref: 'core.noop' }),
      ]);
      // Found by a member it lists and by one that joined since.
      for (const q of [
        `execution=${old.action_executions[0]!.object_id}`,
        `execution=${res.body.id}`,
        `rule=${old.rules[0]!.object_id}`,
        `trigger_instance=${old.trigger_instances[0]!.object_id}`,
      ]) {
        const listed = (await s.api('GET', `/api/v1/traces?${q}`)).body as Json[];
        expect(
          listed.map((t) => t.id),
          q,
        ).toEqual([old.id]);
        expect(listed[0]).toEqual(got);
      }
      expect((await s.api('GET', `/api/v1/traces?execution=${newId()}`)).body).toEqual([]);
    });

    it("a finished execution's trace lists one core.st2.generic.actiontrigger instance with st2's payload, no rule listening", async () => {
      const res = await s.api('POST', '/api/v1/executions', {
        action: 'core.local',
        parameters: { cmd: 'echo at', sudo_password: 'Ch@ngeMe' },
      });
      expect(res.status, res.text).toBe(201);
      const e = await s.finished(res.body.id);
      // What `st2 trace get ID -j | grep action_execution | grep type` counts: one per execution.
      const trace = await waitFor(async () => {
        const [t] = (await s.api('GET', `/api/v1/traces?execution=${e.id}`)).body as Json[];
        return t?.trigger_instances?.length ? t : null;
      }, 'the action trigger instance in the trace');
      expect(trace.trigger_instances).toEqual([
        expect.objectContaining({
          ref: 'core.st2.generic.actiontrigger',
          caused_by: { type: 'action_execution', id: e.id },
        }),
      ]);
      const id = trace.trigger_instances[0].object_id as string;
      const got = await s.api('GET', `/api/v1/triggerinstances/${id}`);
      expect(got.status, got.text).toBe(200);
      // st2's notifier's payload, in its order, the secret parameter masked as the execution shows it.
      expect(Object.keys(got.body.payload)).toEqual([
        'execution_id',
        'status',
        'start_timestamp',
        'action_name',
        'action_ref',
        'runner_ref',
        'parameters',
        'result',
      ]);
      expect(got.body).toMatchObject({
        id,
        trigger: 'core.st2.generic.actiontrigger',
        trigger_type: 'core.st2.generic.actiontrigger',
        payload: {
          execution_id: e.id,
          status: 'succeeded',
          start_timestamp: e.start_timestamp,
          action_name: 'local',
          action_ref: 'core.local',
          runner_ref: 'local-shell-cmd',
          parameters: { cmd: 'echo at', sudo_password: '********' },
          result: e.result,
        },
        status: 'processed',
        trace_context: { trace_id: trace.id },
        caused_by: { type: 'action_execution', id: e.id },
        source: 'actiontrigger',
      });
      expect(got.body.payload.result).toMatchObject({ stdout: 'at' });
      expect(JSON.stringify(got.body)).not.toContain('Ch@ngeMe');
      // The list and a re-emit show the same payload.
      const listed = (await s.api('GET', '/api/v1/triggerinstances?trigger=core.st2.generic.actiontrigger'))
        .body as Json[];
      expect(listed.find((i) => i.id === id)).toEqual(got.body);
      const again = await s.api('POST', `/api/v1/triggerinstances/${id}/re_emit`);
      expect(again.status, again.text).toBe(200);
      expect(again.body.payload).toEqual(got.body.payload);
      expect(again.body.trigger_instance.payload).toEqual(got.body.payload);
      // The rule tester matches a rule against that payload.
      const tested = await s.api('POST', '/api/v1/rules/test', {
        rule: {
          name: 'on_local',
          pack: 'hooks',
          trigger: { type: 'core.st2.generic.actiontrigger' },
          criteria: { 'trigger.result.stdout': { type: 'equals', pattern: 'at' } },
          action: { ref: 'core.noop' },
        },
        trigger_instance_id: id,
      });
      expect(tested.status, tested.text).toBe(200);
      expect(tested.body).toMatchObject({
        matches: true,
        trigger_instance: { id, payload: got.body.payload },
      });
      // Stored without what the execution's record holds.
      expect(await s.svc.services.store.triggerInstances.get(id)).not.toHaveProperty('payload');
    });

    it('a rule on core.st2.generic.actiontrigger matches the execution it was posted for', async () => {
      const rule = await listenToActionTrigger(s, {
        'trigger.action_ref': { type: 'equals', pattern: 'core.local' },
        'trigger.result.stdout': { type: 'equals', pattern: 'heard' },
      });
      try {
        const res = await s.api('POST', '/api/v1/executions', {
          action: 'core.local',
          parameters: { cmd: 'echo heard' },
        });
        expect(res.status).toBe(201);
        const e = await s.finished(res.body.id);
        const trace = await waitFor(async () => {
          const [t] = (await s.api('GET', `/api/v1/traces?execution=${e.id}`)).body as Json[];
          return t?.trigger_instances?.length ? t : null;
        }, 'the action trigger instance in the trace');
        const [instance] = trace.trigger_instances as Json[];
        expect(instance).toMatchObject({ ref: 'core.st2.generic.actiontrigger' });
        await s.processed(instance!.object_id);
        const enforcements = await waitFor(async () => {
          const found = (
            await s.api('GET', `/api/v1/ruleenforcements?trigger_instance=${instance!.object_id}`)
          ).body as Json[];
          return found.length ? found : null;
        }, 'the rule enforcement');
        expect(enforcements).toEqual([
          expect.objectContaining({ rule: expect.objectContaining({ ref: rule.ref }), status: 'succeeded' }),
        ]);
        const fired = await s.finished(enforcements[0]!.execution_id);
        expect(fired.action.ref).toBe('core.noop');
        const view = await s.api('GET', `/api/v1/ruleenforcements/views/${enforcements[0]!.id}`);
        expect(view.body.trigger_instance.payload).toMatchObject({
          execution_id: e.id,
          result: { stdout: 'heard' },
        });
      } finally {
        await s.api('DELETE', `/api/v1/rules/${rule.ref}`);
      }
    });

    it('by default (rules.store_unheard_actiontrigger false), stores no action trigger instance while no rule listens', async () => {
      const quiet = await startEvents(target, {});
      try {
        const res = await quiet.api('POST', '/api/v1/executions', { action: 'core.noop', parameters: {} });
        const e = await quiet.finished(res.body.id);
        const [trace] = (await quiet.api('GET', `/api/v1/traces?execution=${e.id}`)).body as Json[];
        expect(trace.trigger_instances).toEqual([]);
        expect(
          (await quiet.api('GET', '/api/v1/triggerinstances?trigger=core.st2.generic.actiontrigger')).body,
        ).toEqual([]);
      } finally {
        await quiet.svc.cleanup();
      }
    });
  });
}
