import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allSubsystems, finishedExecution, startTestApi, type TestApi } from '../../support/api.js';
import { writeTestPack } from '../../support/packs.js';
import { tempDir } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { STORE_FILE } from '../../../src/store/index.js';

/**
 * Issue 18 item 3: a datastore secret opens only for those the REST API lets decrypt it (admins
 * any key, users their own user-scope keys) — in action parameters, rules and the action
 * datastore alike — and a secret that was opened stays secret in parameters, output and files.
 */

const SYSTEM_SECRET = 'system-plaintext-7f3a91';
const USER_SECRET = 'olivers-own-plaintext-c21';

/** The embedded store's files (the SQLite database and its WAL) and the stored results. */
function storeFiles(dataDir: string): string[] {
  const under = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = path.join(dir, f);
      return statSync(p).isDirectory() ? under(p) : [p];
    });
  const results = path.join(dataDir, 'results');
  return [
    ...readdirSync(dataDir)
      .filter((f) => f.startsWith(STORE_FILE))
      .map((f) => path.join(dataDir, f)),
    ...(existsSync(results) ? under(results) : []),
  ];
}

/** A pack whose Python action reads a key through st2's action_service with decrypt. */
function writePack(root: string): void {
  writeTestPack(root, 'sectest', {
    'actions/peek.yaml': [
      'name: peek',
      'runner_type: python-script',
      'entry_point: peek.py',
      'parameters:',
      '  key: {type: string, required: true}',
      '  scope: {type: string, default: system}',
      '',
    ].join('\n'),
    'actions/wf_peek.yaml':
      'name: wf_peek\nrunner_type: orquesta\nentry_point: workflows/wf_peek.yaml\nparameters: {}\n',
    'actions/workflows/wf_peek.yaml': [
      'version: 1.0',
      'tasks:',
      '  task1:',
      '    action: core.noop',
      'output:',
      '  - secret: <% st2kv("system.syssecret", decrypt => true) %>',
      '',
    ].join('\n'),
    'actions/peek.py': [
      'from st2common.runners.base_action import Action',
      '',
      'class Peek(Action):',
      '    def run(self, key, scope):',
      '        value = self.action_service.get_value(key, local=False, scope=scope, decrypt=True)',
      '        print("value is %s" % value)',
      '        return {"value": value}',
      '',
    ].join('\n'),
  });
}

describe('decrypting datastore secrets outside the keys API (all subsystems)', () => {
  let api: TestApi;
  let operator: string;
  let observer: string;
  let packs: { dir: string; cleanup(): void };

  const run = async (token: string, action: string, parameters: Record<string, unknown>) =>
    api.request('POST', '/api/v1/executions', { token, body: { action, parameters } });

  const finished = (id: string) => finishedExecution(api, id);

  /** The first enforcement of the rule that has `field` (a failure reason, an execution). */
  const enforcementOf = (ruleRef: string, field: string) =>
    waitFor(
      async () =>
        (await api.request('GET', `/api/v1/ruleenforcements?rule_ref=${ruleRef}`)).body.find(
          (x: Record<string, unknown>) => x[field],
        ),
      `an enforcement of ${ruleRef} with ${field}`,
      30_000,
      100,
    );

  /** An admin-made rule of the test pack: a webhook at `hook` runs core.local with `parameters`. */
  const hookRule = (name: string, hook: string, parameters: Record<string, unknown>) => ({
    name,
    pack: 'sectest',
    enabled: true,
    trigger: { type: 'core.st2.webhook', parameters: { url: hook } },
    criteria: {},
    action: { ref: 'core.local', parameters },
  });

  /** Everything an observer can read about an execution, as one string. */
  const observed = async (id: string) => {
    const one = await api.request('GET', `/api/v1/executions/${id}`, { token: observer });
    const output = await api.request('GET', `/api/v1/executions/${id}/output`, { token: observer });
    expect(one.status).toBe(200);
    return JSON.stringify(one.body) + String(output.body);
  };

  beforeAll(async () => {
    packs = tempDir('squall-sec-packs-');
    writePack(packs.dir);
    api = await startTestApi({
      subsystems: await allSubsystems(),
      overrides: { 'packs.paths': [packs.dir] },
    });
    const reg = await api.request('POST', '/api/v1/packs/register', { body: { packs: ['sectest'] } });
    expect(reg.status, JSON.stringify(reg.body)).toBeLessThan(300);
    operator = await api.tokenFor('oliver', ['operator']);
    observer = await api.tokenFor('olga', ['observer']);
    const sys = await api.request('PUT', '/api/v1/keys/syssecret', {
      body: { value: SYSTEM_SECRET, secret: true },
    });
    expect(sys.status).toBe(200);
    const mine = await api.request('PUT', '/api/v1/keys/mysecret', {
      token: operator,
      body: { value: USER_SECRET, secret: true, scope: 'user' },
    });
    expect(mine.status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    packs?.cleanup();
  });

  it("refuses an operator's decrypt_kv of a system secret in action parameters, as the keys API does", async () => {
    const res = await run(operator, 'core.local', { cmd: 'echo {{ st2kv.system.syssecret | decrypt_kv }}' });
    expect(res.status).toBe(403);
    expect(res.body.faultstring).toContain('requires administrator access');
    expect(res.body.faultstring).toContain('st2kv.system.syssecret');
    expect(JSON.stringify(res.body)).not.toContain(SYSTEM_SECRET);
    const list = await api.request('GET', '/api/v1/executions?action=core.local');
    expect(JSON.stringify(list.body)).not.toContain(SYSTEM_SECRET);
  });

  it("cannot reach JavaScript from a template to read the secret another way (nunjucks' constructor escape)", async () => {
    // The classic nunjucks escape builds a Function and runs it in the server, where the datastore
    // key is: it would open any secret and bypass every check above.
    const escape = (code: string) => `{{ range.constructor("${code}")() }}`;
    const marker = '__squallTemplateEscape';
    for (const cmd of [
      escape(`return (globalThis.${marker} = process.pid)`),
      `{{ "".constructor.constructor("return (globalThis.${marker} = 1)")() }}`,
      `{{ ([range]|map(attribute="constructor")|first)("return (globalThis.${marker} = 2)")() }}`,
    ]) {
      const res = await run(operator, 'core.local', { cmd: `echo ${cmd}` });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.faultstring).toContain('cmd');
      expect((globalThis as Record<string, unknown>)[marker]).toBeUndefined();
    }
  });

  it('refuses a ciphertext pasted into the template, which no key of the operator holds', async () => {
    const cipher = (await api.request('GET', '/api/v1/keys/syssecret', { token: operator })).body.value;
    expect(cipher).not.toContain(SYSTEM_SECRET);
    const res = await run(operator, 'core.local', { cmd: `echo {{ "${cipher}" | decrypt_kv }}` });
    expect(res.status).toBe(403);
    // Nor can it become the operator's own key to decrypt.
    const copy = await api.request('PUT', '/api/v1/keys/stolen', {
      token: operator,
      body: { value: cipher, encrypted: true, scope: 'user' },
    });
    expect(copy.status).toBe(403);
  });

  it('lets a user decrypt their own user-scope secret, masked in parameters and redacted in output', async () => {
    const res = await run(operator, 'core.local', { cmd: 'echo {{ st2kv.user.mysecret | decrypt_kv }}' });
    expect(res.status).toBe(201);
    expect(res.body.parameters.cmd).toBe('********');
    const e = await finished(res.body.id);
    expect(e.status).toBe('succeeded');
    expect(e.result.stdout).toBe('********');
    expect(await observed(e.id)).not.toContain(USER_SECRET);
  });

  it('treats a system secret an admin renders as secret: masked, redacted, never in the data files', async () => {
    const res = await run(api.adminToken, 'core.local', {
      cmd: 'echo "got {{ st2kv.system.syssecret | decrypt_kv }}"',
    });
    expect(res.status).toBe(201);
    const e = await finished(res.body.id);
    expect(e.status).toBe('succeeded');
    expect(e.result.stdout).toBe('got ********');
    expect(await observed(e.id)).not.toContain(SYSTEM_SECRET);
    expect(storeFiles(api.dataDir).length).toBeGreaterThan(0);
    const files = storeFiles(api.dataDir).map((f) => readFileSync(f, 'latin1'));
    expect(files.join('\n')).not.toContain(SYSTEM_SECRET);

    // A re-run carries the rendered value, and keeps it secret.
    const again = await api.request('POST', `/api/v1/executions/${e.id}/re_run`, { body: {} });
    expect(again.status).toBe(201);
    expect(again.body.parameters.cmd).toBe('********');
    const rerun = await finished(again.body.id);
    expect(rerun.result.stdout).toBe('got ********');
    expect(await observed(rerun.id)).not.toContain(SYSTEM_SECRET);
  });

  it("refuses action_service.get_value(decrypt=True) of a system secret to an operator's Python action", async () => {
    const res = await run(operator, 'sectest.peek', { key: 'syssecret' });
    expect(res.status).toBe(201);
    const e = await finished(res.body.id);
    expect(e.status).toBe('failed');
    expect(JSON.stringify(e.result)).toContain('requires administrator access');
    expect(await observed(e.id)).not.toContain(SYSTEM_SECRET);
  });

  it("refuses st2kv(..., decrypt => true) of a system secret in an operator's Orquesta workflow", async () => {
    const res = await run(operator, 'sectest.wf_peek', {});
    expect(res.status).toBe(201);
    const e = await finished(res.body.id);
    expect(e.status).toBe('failed');
    expect(JSON.stringify(e.result)).toContain('requires administrator access');
    expect(await observed(e.id)).not.toContain(SYSTEM_SECRET);
  });

  it("opens the operator's own user-scope secret to their Python action, redacted from its output", async () => {
    const res = await run(operator, 'sectest.peek', { key: 'mysecret', scope: 'user' });
    const e = await finished(res.body.id);
    expect(e.status).toBe('succeeded');
    expect(e.result.result).toEqual({ value: '********' });
    expect(await observed(e.id)).not.toContain(USER_SECRET);
  });

  it('does not quote a decrypted secret in the error of a parameter it does not fit, to the caller or in an enforcement', async () => {
    const res = await run(api.adminToken, 'core.local', {
      cmd: 'true',
      timeout: '{{ st2kv.system.syssecret | decrypt_kv }}',
    });
    expect(res.status).toBe(400);
    expect(res.body.faultstring).toContain('Parameter "timeout" expects an integer');
    expect(JSON.stringify(res.body)).not.toContain(SYSTEM_SECRET);

    // A rule's failure reason is read by every observer, and logged.
    const byAdmin = await api.request('POST', '/api/v1/rules', {
      body: hookRule('misfit_rule', 'misfit_hook', {
        cmd: 'true',
        timeout: '{{ st2kv.system.syssecret | decrypt_kv }}',
      }),
    });
    expect(byAdmin.status).toBe(201);
    expect((await api.request('POST', '/api/v1/webhooks/misfit_hook', { body: {} })).status).toBe(202);
    const failed = await enforcementOf('sectest.misfit_rule', 'failure_reason');
    expect(failed.failure_reason).toContain('Parameter "timeout" expects an integer');
    const seen = await api.request('GET', '/api/v1/ruleenforcements?rule_ref=sectest.misfit_rule', {
      token: observer,
    });
    expect(seen.status).toBe(200);
    expect(JSON.stringify(seen.body)).not.toContain(SYSTEM_SECRET);
  });

  it("fires an operator's rule without decrypting a system secret; an admin's rule keeps it secret", async () => {
    const rule = (name: string, hook: string) =>
      hookRule(name, hook, { cmd: 'echo "rule {{ st2kv.system.syssecret | decrypt_kv }}"' });
    const byOperator = await api.request('POST', '/api/v1/rules', {
      token: operator,
      body: { ...rule('op_rule', 'op_hook'), context: { user: api.adminUser } },
    });
    expect(byOperator.status).toBe(201);
    expect(byOperator.body.context.user).toBe('oliver');
    const byAdmin = await api.request('POST', '/api/v1/rules', { body: rule('admin_rule', 'admin_hook') });
    expect(byAdmin.status).toBe(201);

    expect((await api.request('POST', '/api/v1/webhooks/op_hook', { body: {} })).status).toBe(202);
    const refused = await enforcementOf('sectest.op_rule', 'failure_reason');
    expect(refused.failure_reason).toContain('requires administrator access');

    expect((await api.request('POST', '/api/v1/webhooks/admin_hook', { body: {} })).status).toBe(202);
    const enforced = await enforcementOf('sectest.admin_rule', 'execution_id');
    const e = await finished(enforced.execution_id);
    expect(e.status).toBe('succeeded');
    expect(e.parameters.cmd).toBe('********');
    expect(e.result.stdout).toBe('rule ********');
    expect(await observed(e.id)).not.toContain(SYSTEM_SECRET);
  });
});
