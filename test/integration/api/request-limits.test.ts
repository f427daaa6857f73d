import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_DEPTH } from '../../../src/api/index.js';
import { loadConfig } from '../../../src/config/index.js';
import { PARAMETER_LIMITS } from '../../../src/executions/parameters.js';
import { defaultSubsystems } from '../../../src/subsystems.js';
import { startTestApi, type TestApi } from '../../support/api.js';

/**
 * Issue 18 items 2 and 10: requests that froze the server or answered 500 are refused at the
 * edge with a 400 that names the limit, and the server keeps answering others meanwhile.
 */

function allSubsystems() {
  const { config } = loadConfig({ env: {}, overrides: {} });
  return defaultSubsystems(config).filter((s) => s.name !== 'auth' && s.name !== 'kv');
}

/** JSON text of an object nested `depth` levels deep: {"a":{"a":…1…}}. */
function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

describe('request limits at the API edge (all subsystems)', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi({ subsystems: allSubsystems() });
    const rule = await api.request('POST', '/api/v1/rules', {
      body: {
        name: 'deep_hook',
        pack: 'limits',
        trigger: { type: 'core.st2.webhook', parameters: { url: 'deep_hook' } },
        action: { ref: 'core.noop' },
      },
    });
    expect(rule.status).toBe(201);
  }, 120_000);
  afterAll(async () => api?.stop());

  const post = (path: string, text: string, method = 'POST') =>
    fetch(`${api.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-auth-token': api.adminToken },
      body: text,
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, any> }));

  it('refuses core.noop with 1,000 extra parameters with a 400 naming the limit, and answers health meanwhile', async () => {
    const parameters: Record<string, string> = {};
    for (let i = 0; i < 1000; i++) parameters[`extra_parameter_${i}`] = `value ${i}`;
    const body = JSON.stringify({ action: 'core.noop', parameters });
    expect(body.length).toBeGreaterThan(13_000);
    const order: string[] = [];
    const big = post('/api/v1/executions', body).then((r) => {
      order.push('executions');
      return r;
    });
    const health = fetch(`${api.url}/api/v1/health`).then(async (r) => {
      order.push('health');
      return { status: r.status, body: (await r.json()) as Record<string, any> };
    });
    const [bigRes, healthRes] = await Promise.all([big, health]);
    expect(healthRes.status).toBe(200);
    expect(healthRes.body.status).toBe('ok');
    expect(order.sort()).toEqual(['executions', 'health']);
    expect(bigRes.status).toBe(400);
    expect(bigRes.body.code).toBe('PARAM_LIMIT');
    expect(bigRes.body.faultstring).toContain(
      `1000 parameters were given; at most ${PARAMETER_LIMITS.maxParameters} are accepted`,
    );
  });

  it('refuses unknown parameters by name before rendering any of them', async () => {
    // The templates would fail to render; the unknown name is what the caller hears about.
    const res = await post(
      '/api/v1/executions',
      JSON.stringify({ action: 'core.local', parameters: { cmd: '{{ 1/0 }}', bogus: '{{ 1/0 }}' } }),
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('PARAM_UNKNOWN');
    expect(res.body.faultstring).toContain('"bogus" is not a parameter of this action');
  });

  it('refuses a template over the size limit, naming the parameter and the limit', async () => {
    const cmd = `echo {{ action_context.user }} ${'x'.repeat(PARAMETER_LIMITS.maxTemplateChars)}`;
    const res = await post(
      '/api/v1/executions',
      JSON.stringify({ action: 'core.local', parameters: { cmd } }),
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('PARAM_LIMIT');
    expect(res.body.faultstring).toContain(`Parameter "cmd" holds a template of ${cmd.length} characters`);
  });

  it('stops a runaway loop in a template with a 400 naming the range limit', async () => {
    const cmd = 'echo {% for i in range(10**9) %}{% endfor %}';
    const res = await post(
      '/api/v1/executions',
      JSON.stringify({ action: 'core.local', parameters: { cmd } }),
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('PARAM_RENDER');
    expect(res.body.faultstring).toContain('range() of 1000000000 items is over the limit of 100000');
  });

  it('refuses a template that would build gigabytes from a few characters, and keeps serving', async () => {
    // It used to run until the heap limit killed the service (one operator, one request).
    const cmd = "echo {{ 'x' | center(1000000000) }}";
    const res = await post(
      '/api/v1/executions',
      JSON.stringify({ action: 'core.local', parameters: { cmd } }),
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('PARAM_RENDER');
    expect(res.body.faultstring).toContain('the center filter would build 999,999,999 characters');
    expect((await fetch(`${api.url}/api/v1/health`)).status).toBe(200);
  });

  it('answers 400 naming the parameter for a timestamp filter that is not a time', async () => {
    for (const name of ['timestamp_gt', 'timestamp_lt']) {
      for (const path of ['/api/v1/triggerinstances', '/api/v1/executions']) {
        const res = await api.request('GET', `${path}?${name}=garbage`);
        expect(res.status, `${path} ${name}`).toBe(400);
        expect(res.body.faultstring).toContain(`query parameter "${name}" is not a time`);
      }
    }
    const ok = await api.request('GET', '/api/v1/triggerinstances?timestamp_gt=2020-01-01T00:00:00Z');
    expect(ok.status).toBe(200);
  });

  it('answers 400 naming offset for a page offset past 2^53, and an empty page at the largest one', async () => {
    // schemathesis found these: a 21-digit offset reached the store and answered 500.
    for (const path of ['/api/v1/triggers', '/api/v1/inquiries', '/api/v1/executions', '/api/v1/keys']) {
      const res = await api.request('GET', `${path}?offset=460858213971680886784`);
      expect(res.status, path).toBe(400);
      expect(JSON.stringify(res.body), path).toContain('offset');
      const last = await api.request('GET', `${path}?offset=${Number.MAX_SAFE_INTEGER}`);
      expect(last.status, `${path} ${JSON.stringify(last.body)}`).toBe(200);
      expect(last.body, path).toEqual([]);
    }
  });

  const deepTargets: Array<{ method: string; path: string; wrap: (deep: string) => string }> = [
    {
      method: 'POST',
      path: '/api/v1/webhooks/st2',
      wrap: (d) => `{"trigger":"core.st2.webhook","payload":${d}}`,
    },
    { method: 'POST', path: '/api/v1/webhooks/deep_hook', wrap: (d) => d },
    { method: 'POST', path: '/api/v1/executions', wrap: (d) => `{"action":"core.noop","context":${d}}` },
    { method: 'POST', path: '/api/v1/executions', wrap: (d) => `{"action":"core.noop","notify":${d}}` },
    { method: 'POST', path: '/api/v1/apikeys', wrap: (d) => `{"user":"st2admin","metadata":${d}}` },
    { method: 'POST', path: '/auth/v1/tokens', wrap: (d) => `{"ttl":60,"metadata":${d}}` },
    {
      method: 'POST',
      path: '/api/v1/triggertypes',
      wrap: (d) => `{"name":"deep","pack":"deep","payload_schema":${d}}`,
    },
    { method: 'PUT', path: '/api/v1/configs/core', wrap: (d) => d },
    { method: 'POST', path: '/api/v1/rules/test', wrap: (d) => `{"rule":"x.y","trigger_instance":${d}}` },
  ];

  it.each(deepTargets)(
    'refuses JSON nested 10,000 deep on $method $path with a 400, not a 500',
    async (t) => {
      const body = t.wrap(nested(10_000));
      expect(body.length).toBeLessThan(1024 * 1024);
      const res = await post(t.path, body, t.method);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('BODY_TOO_DEEP');
      expect(res.body.faultstring).toContain(`more than ${MAX_BODY_DEPTH} levels deep`);
    },
  );

  it('accepts a body nested up to the limit', async () => {
    const res = await post(
      '/api/v1/webhooks/st2',
      `{"trigger":"core.st2.webhook","payload":${nested(MAX_BODY_DEPTH - 2)}}`,
    );
    expect(res.status).toBe(202);
  });
});
