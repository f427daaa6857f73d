import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestApi } from '../../support/api.js';
import { STORE_TARGETS, describeWithServer } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { startInquiryApi } from './helpers.js';
import { isCompleted } from '../../../src/executions/index.js';

type Json = Record<string, any>;

for (const target of STORE_TARGETS) {
  describeWithServer(
    `inquiries through the API (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let api: TestApi;
      let bob: string;
      let carol: string;
      let watcher: string;

      const run = async (parameters: Json = {}, token?: string) => {
        const res = await api.request('POST', '/api/v1/executions', {
          body: { action: 'inqtest.approval-flow', parameters },
          token,
        });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        return res.body.id as string;
      };
      const get = async (id: string) => (await api.request('GET', `/api/v1/executions/${id}`)).body as Json;
      const finished = (id: string) =>
        waitFor(
          async () => {
            const e = await get(id);
            return isCompleted(e.status) ? e : null;
          },
          `workflow ${id} to finish`,
          20_000,
        );
      /** Waits for the workflow to pause on its ask and returns the inquiry id. */
      const pausedOnAsk = async (id: string) => {
        await waitFor(async () => (await get(id)).status === 'paused', `workflow ${id} to pause`, 20_000);
        const kids = await api.services.store.executions.find({ parent: id });
        const ask = kids.find((k) => k.runner.name === 'inquirer');
        expect(ask?.status).toBe('pending');
        return ask!.id;
      };
      const respond = (id: string, response: unknown, token?: string) =>
        api.request('PUT', `/api/v1/inquiries/${id}`, { body: { id, response }, token });
      const decisions = (id: string) =>
        api.services.store.audit.find(
          { kind: 'inquiry.decision', inquiry_id: id },
          { sort: { timestamp: 1 } },
        );

      beforeAll(async () => {
        api = await startInquiryApi(target);
        bob = await api.tokenFor('bob', ['admin']);
        carol = await api.tokenFor('carol', ['admin']);
        watcher = await api.tokenFor('watcher', ['observer']);
      }, 60_000);
      afterAll(async () => {
        await api?.stop();
      });

      it('pauses the workflow on core.ask, lists the inquiry, and resumes on an API response', async () => {
        const wf = await run();
        const id = await pausedOnAsk(wf);
        const list = await api.request('GET', '/api/v1/inquiries');
        expect(list.status).toBe(200);
        const listed = (list.body as Json[]).find((i) => i.id === id);
        expect(listed).toMatchObject({
          id,
          parent: wf,
          status: 'pending',
          route: '',
          users: [],
          roles: [],
          ttl: 60,
          schema: { properties: { approved: { type: 'boolean' } } },
        });
        const one = await api.request('GET', `/api/v1/inquiries/${id}`);
        expect(one.body.id).toBe(id);
        // The trigger rules can route on (st2 core.st2.generic.inquiry).
        const instances = await api.services.store.triggerInstances.find({
          trigger: 'core.st2.generic.inquiry',
        });
        expect(instances.map((i) => i.payload)).toContainEqual({ id, route: '' });

        const answer = await respond(id, { approved: true }, bob);
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        expect(answer.body).toMatchObject({ id, response: { approved: true } });
        const e = await finished(wf);
        expect(e.status, JSON.stringify(e.result)).toBe('succeeded');
        expect(e.result.output).toEqual({ outcome: 'approved' });
        const ask = await get(id);
        expect(ask.status).toBe('succeeded');
        expect(ask.result).toEqual({ response: { approved: true } });
        // Answered inquiries leave the pending list; answering twice is refused.
        const after = await api.request('GET', '/api/v1/inquiries');
        expect((after.body as Json[]).some((i) => i.id === id)).toBe(false);
        const again = await respond(id, { approved: false }, bob);
        expect(again.status).toBe(400);
        expect(again.body.faultstring).toContain('can no longer be answered');
      });

      it('pauses an action chain on core.ask, as st2 does, and carries on with the response', async () => {
        const res = await api.request('POST', '/api/v1/executions', {
          body: { action: 'inqtest.chain-ask', parameters: {} },
        });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        const id = res.body.id as string;
        const askId = await pausedOnAsk(id);
        expect((await respond(askId, { code: 'c0de' })).status).toBe(200);
        const done = await finished(id);
        expect(done.status).toBe('succeeded');
        const kids = await api.services.store.executions.find({ parent: id });
        const use = kids.find((k) => k.action.ref === 'core.local');
        expect((use?.result as Json).stdout).toBe('code is c0de');
      });

      it('lets Orquesta read task(ask).result.response in a publish', async () => {
        const wf = await run();
        const id = await pausedOnAsk(wf);
        expect((await respond(id, { approved: true })).status).toBe(200);
        await finished(wf);
        const state = await api.services.store.workflows.findOne({ execution_id: wf });
        expect(JSON.stringify(state)).toContain('"seen_by_task":true');
      });

      it('an answer that lands before the workflow has stored its pause still resumes it', async () => {
        const wf = await run();
        const id = await pausedOnAsk(wf);
        // The end state of that race: the ask is answered, but the inquiry service found the
        // workflow still running (its pause not yet stored), so it had nothing to resume.
        await api.services.store.executions.updateOne(
          { id },
          {
            $set: {
              status: 'succeeded',
              result: { response: { approved: true } },
              end_timestamp: new Date().toISOString(),
            },
          },
        );
        const e = await finished(wf);
        expect(e.status).toBe('succeeded');
        expect(e.result.output).toEqual({ outcome: 'approved' });
      });

      it('without a policy a "no" is just data: the workflow takes its declined branch', async () => {
        const wf = await run();
        const id = await pausedOnAsk(wf);
        expect((await respond(id, { approved: false }, bob)).status).toBe(200);
        const e = await finished(wf);
        expect(e.status).toBe('succeeded');
        expect(e.result.output).toEqual({ outcome: 'declined' });
        expect((await get(id)).status).toBe('succeeded');
      });

      it('refuses a response that does not pass the schema with a 400 naming the problem', async () => {
        const wf = await run();
        const id = await pausedOnAsk(wf);
        const wrongType = await respond(id, { approved: 'sure' });
        expect(wrongType.status).toBe(400);
        expect(wrongType.body.faultstring).toBe(
          'Response did not pass schema validation: approved must be boolean',
        );
        const missing = await respond(id, {});
        expect(missing.status).toBe(400);
        expect(missing.body.faultstring).toContain('"approved" is a required property');
        expect((await get(id)).status).toBe('pending');
        expect((await respond(id, { approved: true })).status).toBe(200);
        expect((await finished(wf)).status).toBe('succeeded');
      });

      it("masks the answers the inquiry's schema marks secret wherever the response is shown, as st2", async () => {
        const pin = `pin-${target.kind}-${Date.now()}-gnu`;
        const schema = {
          type: 'object',
          properties: { pin: { type: 'string', secret: true }, ok: { type: 'boolean' } },
        };
        const asked = await api.request('POST', '/api/v1/executions', {
          body: { action: 'core.ask', parameters: { schema } },
        });
        expect(asked.status, JSON.stringify(asked.body)).toBe(201);
        const id = asked.body.id as string;
        await waitFor(async () => (await get(id)).status === 'pending', `inquiry ${id} pending`);
        expect((await respond(id, { pin, ok: true })).status).toBe(200);
        const e = await finished(id);
        expect(e.result.response).toEqual({ pin: '********', ok: true });
        const shown = [
          await api.request('GET', `/api/v1/inquiries/${id}`, { token: watcher }),
          await api.request('GET', `/api/v1/executions/${id}`, { token: watcher }),
          await api.request('GET', `/api/v1/executions/${id}/result`, { token: watcher }),
          await api.request('GET', '/api/v1/executions?action=core.ask', { token: watcher }),
        ];
        for (const res of shown) {
          expect(res.status).toBe(200);
          expect(JSON.stringify(res.body)).not.toContain(pin);
        }
        expect(shown[0].body.response).toEqual({ pin: '********', ok: true });
      });

      it('checks RBAC inquiry_respond and the users list', async () => {
        const wf = await run({ users: ['carol'] });
        const id = await pausedOnAsk(wf);
        const observer = await respond(id, { approved: true }, watcher);
        expect(observer.status).toBe(403);
        expect(observer.body.faultstring).toContain('doesn\'t have required permission "inquiry_respond"');
        const notListed = await respond(id, { approved: true }, bob);
        expect(notListed.status).toBe(403);
        expect(notListed.body.faultstring).toContain('bob is not allowed to respond');
        expect((await get(id)).status).toBe('pending');
        expect((await respond(id, { approved: true }, carol)).status).toBe(200);
        expect((await finished(wf)).result.output).toEqual({ outcome: 'approved' });
      });

      it('policy: the requester cannot approve; the refusal is audited; someone else can', async () => {
        const wf = await run({ approval: { different_from_requester: true } }, bob);
        const id = await pausedOnAsk(wf);
        const self = await respond(id, { approved: true }, bob);
        expect(self.status).toBe(403);
        expect(self.body.faultstring).toContain('started this workflow and cannot also approve it');
        expect((await get(id)).status).toBe('pending');
        expect((await respond(id, { approved: true }, carol)).status).toBe(200);
        expect((await finished(wf)).result.output).toEqual({ outcome: 'approved' });
        const trail = await decisions(id);
        expect(trail.map((d) => [d.actor, d.via, d.decision, d.outcome])).toEqual([
          ['bob', 'api', 'approve', 'denied'],
          ['carol', 'api', 'approve', 'accepted'],
        ]);
        expect(trail[0].reason).toContain('different_from_requester');
      });

      it('policy: a quorum of 2 waits for two different approvers', async () => {
        const wf = await run({ approval: { quorum: 2 } });
        const id = await pausedOnAsk(wf);
        const first = await respond(id, { approved: true }, bob);
        expect(first.status).toBe(200);
        expect(first.body).toMatchObject({ status: 'pending', approvals: 1, quorum: 2 });
        const twice = await respond(id, { approved: true }, bob);
        expect(twice.status).toBe(409);
        expect((await get(id)).status).toBe('pending');
        expect((await get(wf)).status).toBe('paused');
        const shown = await api.request('GET', `/api/v1/inquiries/${id}`);
        expect(shown.body.approvals.map((a: Json) => a.user)).toEqual(['bob']);
        const second = await respond(id, { approved: true }, carol);
        expect(second.body).toMatchObject({ status: 'succeeded', approvals: 2, quorum: 2 });
        expect((await finished(wf)).result.output).toEqual({ outcome: 'approved' });
        const trail = await decisions(id);
        expect(trail.map((d) => [d.actor, d.outcome])).toEqual([
          ['bob', 'approval_recorded'],
          ['bob', 'denied'],
          ['carol', 'approval_recorded'],
          ['carol', 'accepted'],
        ]);
      });

      it('policy: a Deny fails the ask task, so the workflow takes its failure branch', async () => {
        const wf = await run({ approval: { quorum: 2 } });
        const id = await pausedOnAsk(wf);
        expect((await respond(id, { approved: false }, carol)).status).toBe(200);
        const e = await finished(wf);
        expect(e.status).toBe('succeeded');
        expect(e.result.output).toEqual({ outcome: 'not approved (failed)' });
        const ask = await get(id);
        expect(ask.status).toBe('failed');
        expect(ask.result).toMatchObject({ response: { approved: false }, error: 'Denied by carol' });
        expect((await decisions(id)).map((d) => [d.actor, d.decision, d.outcome])).toEqual([
          ['carol', 'deny', 'accepted'],
        ]);
      });

      it('expires an unanswered inquiry: the ask times out and the workflow follows its failure path', async () => {
        const wf = await run({ approval: { deadline_minutes: 0.05 } });
        const id = await pausedOnAsk(wf);
        const e = await finished(wf);
        expect(e.result.output).toEqual({ outcome: 'not approved (timeout)' });
        expect((await get(id)).status).toBe('timeout');
        const late = await respond(id, { approved: true });
        expect(late.status).toBe(400);
        expect(late.body.faultstring).toContain(`Inquiry ${id} is timeout`);
        expect((await decisions(id))[0]).toMatchObject({
          actor: 'system',
          via: 'deadline',
          decision: 'timeout',
        });
      });

      it('a deadline with on_deadline: approve approves by itself', async () => {
        const wf = await run({ approval: { deadline_minutes: 0.05, on_deadline: 'approve' } });
        await pausedOnAsk(wf);
        expect((await finished(wf)).result.output).toEqual({ outcome: 'approved' });
      });
    },
  );
}
