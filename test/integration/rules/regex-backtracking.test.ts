import { describe, expect, it } from 'vitest';
import { tempDir } from '../../support/servers.js';
import { startServiceProcess } from '../../support/service-process.js';
import { waitFor } from '../../support/wait.js';

type Json = Record<string, any>;

/**
 * A rule's `regex` criterion is written by a rule author; the payload it runs on is chosen by
 * whoever can post the webhook. `(a+)+$` against 40 a's and a "!" backtracks 2^40 times on V8's
 * default engine: one webhook would hold the process's only thread for hours, and every part of
 * the server with it. The service runs its patterns with V8's linear-time fallback instead.
 * (Run in a child process: without the guard the test's own thread would freeze.)
 */
describe('a catastrophic regular expression in a rule criterion', () => {
  it('does not freeze the server: the webhook is answered, the criterion evaluated, health answers', async () => {
    const data = tempDir('squall-redos-');
    const svc = await startServiceProcess(['--data-dir', data.dir], {
      SQUALL_AUTH_ENABLE: 'false',
      SQUALL_LOG_LEVEL: 'warn',
      SQUALL_SCHEDULER_PROCESS_EVERY_MS: '200',
    });
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${svc.url}${path}`, {
        method,
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30_000),
      });
      return { status: res.status, body: (await res.json()) as Json };
    };
    try {
      const rule = await call('POST', '/api/v1/rules', {
        name: 'nested_quantifier',
        pack: 'default',
        trigger: { type: 'core.st2.webhook', parameters: { url: 'redos' } },
        criteria: { 'trigger.body.name': { type: 'regex', pattern: '(a+)+$' } },
        action: { ref: 'core.noop', parameters: {} },
        enabled: true,
      });
      expect(rule.status, JSON.stringify(rule.body)).toBe(201);
      // A lookaround: no linear engine runs it, so it backtracks, stopped at the time budget.
      const lookaround = await call('POST', '/api/v1/rules', {
        name: 'lookaround',
        pack: 'default',
        trigger: { type: 'core.st2.webhook', parameters: { url: 'redos' } },
        criteria: { 'trigger.body.name': { type: 'regex', pattern: '(?=a)(a+)+$' } },
        action: { ref: 'core.noop', parameters: {} },
        enabled: true,
      });
      expect(lookaround.status, JSON.stringify(lookaround.body)).toBe(201);

      const evil = await call('POST', '/api/v1/webhooks/redos', { name: 'a'.repeat(40) + '!' });
      expect(evil.status).toBe(202);
      const good = await call('POST', '/api/v1/webhooks/redos', { name: 'aaaa' });
      expect(good.status).toBe(202);

      // Both instances are processed: the evil one matched nothing, the good one ran core.noop.
      const instances = await waitFor(
        async () => {
          const list = ((await call('GET', '/api/v1/triggerinstances?limit=50')).body as Json[]).filter(
            (i) => typeof i.payload?.body?.name === 'string',
          );
          return list.length === 2 && list.every((i) => i.status === 'processed') ? list : null;
        },
        'both trigger instances processed',
        60_000,
      );
      const enforcements = (await call('GET', '/api/v1/ruleenforcements?rule_ref=default.nested_quantifier'))
        .body;
      expect(enforcements).toHaveLength(1);
      const matched = instances.find((i) => i.payload.body.name === 'aaaa');
      expect(enforcements[0].trigger_instance_id).toBe(matched!.id);
      const stopped = (await call('GET', '/api/v1/ruleenforcements?rule_ref=default.lookaround')).body;
      const evilId = instances.find((i) => i.id !== matched!.id)!.id;
      const byInstance = Object.fromEntries(stopped.map((e: Json) => [e.trigger_instance_id, e]));
      expect(byInstance[matched!.id]).toMatchObject({ status: 'succeeded' });
      expect(byInstance[evilId]).toMatchObject({ status: 'failed' });
      expect(byInstance[evilId].failure_reason).toMatch(/took longer than 200 ms on a text of 41 characters/);
      expect((await call('GET', '/api/v1/health')).status).toBe(200);
    } finally {
      await svc.stop();
      data.cleanup();
    }
  }, 120_000);
});
