import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freshMongoUrl, tempDir } from '../../support/servers.js';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.js';
import {
  describeSt2PerStore,
  ensureSt2Client,
  st2Cli,
  st2Row as row,
  type St2Cli,
} from '../../support/st2cli.js';
import { waitFor } from '../../support/wait.js';

/**
 * The official `st2` CLI (PyPI st2client 3.9) against `squall start`: the daily commands beyond
 * st2-cli.test.ts — execution filters, pause/resume, traces, rule enforcements, trigger
 * instances, aliases, sensors, timers, policies, runners, API keys, `key load`, RBAC roles,
 * `workflow inspect`, the service registry — and the ones Squall refuses (action create/delete).
 */

const PASSWORD = 'st2-daily-test-password';
const ID_RE = /[0-9a-f]{24}/;
/** Installing the test pack and the webhook round trip take longer on FerretDB under load. */
const SLOW_MS = 120_000;

const PACK: Record<string, string> = {
  'pack.yaml':
    'ref: daily\nname: daily\ndescription: st2 CLI daily commands\nversion: 0.1.0\nauthor: tester\n',
  'actions/slow.yaml': `name: slow
runner_type: orquesta
entry_point: workflows/slow.yaml
enabled: true
parameters:
  seconds:
    type: integer
    default: 2
`,
  'actions/workflows/slow.yaml': `version: 1.0
input:
  - seconds
tasks:
  first:
    action: core.local cmd="sleep <% ctx().seconds %>"
    next:
      - when: <% succeeded() %>
        do: second
  second:
    action: core.local cmd="echo second-done"
output:
  - done: <% task(second).result.stdout %>
`,
  // A first task that prints at once: it is over before `st2 run --tail` listens.
  'actions/tasks.yaml':
    'name: tasks\nrunner_type: orquesta\nentry_point: workflows/tasks.yaml\nparameters:\n  seconds: {type: integer, default: 1}\n',
  'actions/workflows/tasks.yaml': `version: 1.0
input: [seconds]
tasks:
  first:
    action: core.local cmd="echo first-task-line"
    next: [{ when: "<% succeeded() %>", do: second }]
  second:
    action: core.local cmd="sleep <% ctx().seconds %>; echo second-task-line"
`,
  'aliases/echo.yaml': `name: echo
pack: daily
action_ref: core.echo
description: Echo a message.
formats:
  - "daily echo {{message}}"
`,
  'rules/hook.yaml': `name: hook
pack: daily
enabled: true
trigger:
  type: core.st2.webhook
  parameters:
    url: daily_hook
action:
  ref: core.local
  parameters:
    cmd: echo hook {{ trigger.body.name }}
`,
  'rules/hourly.yaml': `name: hourly
pack: daily
enabled: true
trigger:
  type: core.st2.IntervalTimer
  parameters:
    unit: hours
    delta: 1
action:
  ref: core.noop
`,
};

const BAD_WORKFLOW = `version: 1.0
tasks:
  task1:
    action: core.noop
    next:
      - when: <% succeeded() %>
        do: task9
`;

describeSt2PerStore('official st2 CLI: daily commands', (target) => {
  let svc: ServiceProcess;
  let st2: St2Cli;
  let cleanup: () => void;
  let home: string;

  /** An API key of st2admin, made once with `st2 apikey create -k`. */
  let keyCache: string | undefined;
  async function apiKey(): Promise<string> {
    keyCache ??= (await st2.ok('apikey', 'create', '-k')).trim();
    return keyCache;
  }

  // Polled through the API: a st2 call takes seconds on a loaded machine, longer than a state.
  const executionStatus = async (id: string) => {
    const res = await fetch(`${svc.url}/api/v1/executions/${id}?include_attributes=status`, {
      headers: { 'st2-api-key': await apiKey() },
    });
    return ((await res.json()) as { status: string }).status;
  };

  const asyncId = (out: string) => {
    const m = /st2 execution get ([0-9a-f]{24})/.exec(out);
    expect(m, out).not.toBeNull();
    return m![1];
  };
  /** A user with the operator role (made through the API), logged in with st2 in its own HOME. */
  async function operator(name: string): Promise<St2Cli> {
    const made = await fetch(`${svc.url}/api/v1/users`, {
      method: 'POST',
      headers: { 'st2-api-key': await apiKey(), 'content-type': 'application/json' },
      body: JSON.stringify({ name, password: `${name}-password-1`, roles: ['operator'] }),
    });
    expect(made.status).toBe(201);
    const userHome = path.join(home, '..', `home-${name}`);
    mkdirSync(userHome, { recursive: true });
    const cli = st2Cli(await ensureSt2Client(), svc.url, userHome);
    await cli.ok('login', name, '-p', `${name}-password-1`);
    return cli;
  }
  const settle = (id: string, status = 'succeeded') =>
    waitFor(async () => (await executionStatus(id)) === status, `${id} ${status}`, 60_000, 250);

  beforeAll(async () => {
    const bin = await ensureSt2Client();
    const temp = tempDir('squall-st2daily-');
    cleanup = temp.cleanup;
    home = path.join(temp.dir, 'home');
    const packDir = path.join(temp.dir, 'fixtures', 'daily');
    for (const [rel, text] of Object.entries(PACK)) {
      mkdirSync(path.dirname(path.join(packDir, rel)), { recursive: true });
      writeFileSync(path.join(packDir, rel), text);
    }
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(home, 'bad-wf.yaml'), BAD_WORKFLOW);
    writeFileSync(
      path.join(home, 'action.yaml'),
      'name: made\npack: daily\nrunner_type: local-shell-cmd\nparameters:\n  cmd:\n    default: date\n',
    );
    writeFileSync(
      path.join(home, 'keys.json'),
      JSON.stringify([
        { name: 'load_a', value: 'alpha' },
        { name: 'load_b', value: 'beta', secret: true },
        { name: 'load_mine', value: 'mine', scope: 'user' },
      ]),
    );
    const env: NodeJS.ProcessEnv = {
      SQUALL_AUTH_ADMIN_PASSWORD: PASSWORD,
      ...(target.kind === 'mongo' ? { SQUALL_MONGO_URL: freshMongoUrl() } : {}),
    };
    svc = await startServiceProcess(['--data-dir', path.join(temp.dir, 'data')], env, 60_000);
    st2 = st2Cli(bin, svc.url, home);
    await st2.ok('login', 'st2admin', '-p', PASSWORD);
    await st2.ok('pack', 'install', `file://${packDir}`);
  }, 600_000);

  afterAll(async () => {
    await svc?.stop();
    cleanup?.();
  });

  let first: string;
  let second: string;
  it(
    'st2 run -a, then execution get --attr; execution list --action, --status, --sort asc, -tg/-tl',
    async () => {
      first = asyncId(await st2.ok('run', 'core.local', 'cmd=echo first-run', '-a'));
      await settle(first);
      second = asyncId(await st2.ok('run', 'core.local', 'cmd=echo second-run', '-a'));
      await settle(second);
      const attrs = await st2.ok('execution', 'get', second, '--attr', 'status', 'result.stdout');
      expect(attrs).toMatch(/status: succeeded/);
      expect(attrs).toMatch(/second-run/);
      expect(attrs).not.toMatch(/parameters:/);

      const mine = await st2.json<{ id: string }[]>(
        'execution',
        'list',
        '--action',
        'core.local',
        '-a',
        'id',
      );
      expect(mine.map((e) => e.id)).toEqual([first, second]);
      const noop = await st2('execution', 'list', '--action', 'core.noop');
      expect(noop.stdout).not.toContain(first);
      const ok = await st2.json<{ id: string; status: string }[]>(
        'execution',
        'list',
        '--status',
        'succeeded',
        '-a',
        'id',
        'status',
      );
      expect(ok.map((e) => e.id)).toEqual(expect.arrayContaining([first, second]));
      expect(new Set(ok.map((e) => e.status))).toEqual(new Set(['succeeded']));
      // --sort asc sends sort_asc=True: the oldest execution, not the newest.
      const oldest = await st2.json<{ id: string }[]>(
        'execution',
        'list',
        '--sort',
        'asc',
        '-n',
        '1',
        '-a',
        'id',
      );
      const newest = await st2.json<{ id: string }[]>('execution', 'list', '-n', '1', '-a', 'id');
      expect(newest.map((e) => e.id)).toEqual([second]);
      expect(oldest[0].id).not.toBe(second);
      const none = await st2('execution', 'list', '-tl', '2000-01-01T00:00:00.000Z');
      expect(none.stdout).not.toMatch(ID_RE);
      const after = await st2.json<{ id: string }[]>(
        'execution',
        'list',
        '-tg',
        '2000-01-01T00:00:00.000Z',
        '-a',
        'id',
      );
      expect(after.map((e) => e.id)).toEqual(expect.arrayContaining([first, second]));
    },
    SLOW_MS,
  );

  it('st2 execution list / get and action list --attr refuse a field the model does not have, naming it', async () => {
    const some = asyncId(await st2.ok('run', 'core.noop', '-a'));
    for (const args of [
      ['execution', 'list', '--attr', 'doesntexist'],
      ['action', 'list', '--attr', 'doesntexist'],
    ]) {
      const r = await st2(...args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stdout + r.stderr).toContain(
        'Invalid or unsupported include attribute specified: doesntexist',
      );
    }
    // One execution: st2client shows any error of `execution get` as "not found"; the API says why.
    const one = await fetch(`${svc.url}/api/v1/executions/${some}?include_attributes=status,doesntexist`, {
      headers: { 'st2-api-key': await apiKey() },
    });
    expect(one.status).toBe(400);
    expect(((await one.json()) as { faultstring: string }).faultstring).toBe(
      'Invalid or unsupported include attribute specified: doesntexist',
    );
    // Optional fields absent from every record shown are still fields: no refusal.
    const listed = await st2.json<object[]>(
      'action',
      'list',
      '--pack',
      'core',
      '--attr',
      'name',
      'output_schema',
    );
    expect(listed.length).toBeGreaterThan(0);
    expect(await st2.ok('execution', 'list', '--attr', 'id', 'end_timestamp', 'web_url')).toContain('id');
  });

  it(
    'st2 action execute (the older verb) runs the action',
    async () => {
      const id = asyncId(await st2.ok('action', 'execute', 'core.local', 'cmd=echo older-verb'));
      await settle(id);
      expect(await st2.ok('execution', 'get', id)).toMatch(/older-verb/);
    },
    SLOW_MS,
  );

  it(
    'st2 execution pause and resume an Orquesta workflow; get --show-tasks and -d',
    async () => {
      const id = asyncId(await st2.ok('run', 'daily.slow', 'seconds=6', '--async'));
      await settle(id, 'running');
      const paused = await st2.ok('execution', 'pause', id);
      expect(paused).toMatch(new RegExp(`^id: ${id}$`, 'm'));
      expect(paused).toMatch(/status: paus(ing|ed)/);
      await settle(id, 'paused');
      const resumed = await st2.ok('execution', 'resume', id);
      expect(resumed).toMatch(/status: (resuming|running)/);
      await settle(id);
      const tasks = await st2.ok('execution', 'get', id, '--show-tasks');
      expect(tasks).toMatch(
        /\|\s*[0-9a-f]{24}\s*\|\s*succeeded \(\d+s elapsed\)\s*\|\s*first\s*\|\s*core\.local\s*\|/,
      );
      expect(tasks).toMatch(
        /\|\s*[0-9a-f]{24}\s*\|\s*succeeded \(\d+s elapsed\)\s*\|\s*second\s*\|\s*core\.local\s*\|/,
      );
      expect(tasks).toMatch(/done: second-done/);
      const detail = await st2.ok('execution', 'get', id, '-d');
      expect(detail).toMatch(row('action.ref', 'daily.slow'));
      expect(detail).toMatch(/\|\s*log\s*\|\s*\[/);
      expect(detail).toMatch(/"status": "paused"/);
    },
    SLOW_MS,
  );

  it(
    'st2 execution tail follows a running workflow: its tasks start and finish, their output, the end',
    async () => {
      const id = asyncId(await st2.ok('run', 'daily.slow', 'seconds=6', '--async'));
      const out = await st2.ok('execution', 'tail', id);
      expect(out).toMatch(/Child execution \(task=second\) [0-9a-f]{24} has started\./);
      expect(out).toMatch(/second-done/);
      expect(out).toMatch(/Child execution \(task=second\) [0-9a-f]{24} has finished \(status=succeeded\)\./);
      expect(out).toContain(`Execution ${id} has completed (status=succeeded).`);
    },
    SLOW_MS,
  );

  it(
    'st2 workflow inspect --file lists the errors of a definition',
    async () => {
      const out = await st2.ok('workflow', 'inspect', '--file', 'bad-wf.yaml');
      expect(out).toMatch(/- message: The task "task9" is not defined\./);
      expect(out).toMatch(/spec_path: tasks\.task1\.next\[0\]\.do/);
      expect(out).toMatch(/type: semantics/);
    },
    SLOW_MS,
  );

  let instanceId: string;
  let hookExecution: string;
  it(
    'a webhook fires the rule: rule-enforcement list/get, trigger-instance list/get/re-emit, trace list/get',
    async () => {
      const rule = await st2.json<{ id: string }>('rule', 'get', 'daily.hook');
      const res = await fetch(`${svc.url}/api/v1/webhooks/daily_hook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'st2-api-key': await apiKey() },
        body: JSON.stringify({ name: 'carol' }),
      });
      expect(res.status, await res.text()).toBeLessThan(300);
      let enforcement: { id: string; trigger_instance_id: string; execution_id: string } | undefined;
      await waitFor(
        async () => {
          const list = await st2.json<(typeof enforcement & object)[]>(
            'rule-enforcement',
            'list',
            '--rule',
            'daily.hook',
          );
          enforcement = list.find((e) => e.execution_id);
          return Boolean(enforcement);
        },
        'the rule to be enforced',
        60_000,
        500,
      );
      instanceId = enforcement!.trigger_instance_id;
      hookExecution = enforcement!.execution_id;
      const table = await st2.ok('rule-enforcement', 'list');
      expect(table).toMatch(new RegExp(`${enforcement!.id}\\s*\\|\\s*daily\\.hook\\s*\\|\\s*${instanceId}`));
      const one = await st2.ok('rule-enforcement', 'get', enforcement!.id);
      expect(one).toMatch(row('execution_id', hookExecution));
      await settle(hookExecution);
      expect(await st2.ok('execution', 'get', hookExecution)).toMatch(/hook carol/);
      expect(
        await st2.json<{ id: string }[]>('execution', 'list', '--trigger_instance', instanceId, '-a', 'id'),
      ).toEqual([{ id: hookExecution }]);

      const instances = await st2.ok('trigger-instance', 'list', '-n', '50');
      expect(instances).toMatch(
        new RegExp(`${instanceId}\\s*\\|\\s*core\\.\\S+\\s*\\|.*\\|\\s*processed\\s*\\|`),
      );
      const got = await st2.ok('trigger-instance', 'get', instanceId);
      expect(got).toMatch(row('id', instanceId));
      expect(got).toMatch(/"name": "carol"/);
      expect(await st2.ok('trigger-instance', 're-emit', instanceId)).toMatch(
        new RegExp(`Trigger instance ${instanceId} succesfully re-sent`),
      );
      await waitFor(
        async () =>
          (await st2.json<{ id: string }[]>('rule-enforcement', 'list', '--rule', 'daily.hook')).length >= 2,
        'the re-emitted instance to be enforced',
        60_000,
        500,
      );

      const byExecution = await st2.ok('trace', 'list', '--execution', hookExecution);
      expect(byExecution).toMatch(new RegExp(`trace_tag: trigger_instance-${instanceId}`));
      expect(byExecution).toMatch(new RegExp(`${hookExecution}\\s*\\|\\s*execution\\s*\\|\\s*core\\.local`));
      expect(byExecution).toMatch(/\|\s*rule\s*\|\s*daily\.hook\s*\|/);
      const traceId = /^id: ([0-9a-f]{24})$/m.exec(byExecution)![1];
      expect(await st2.ok('trace', 'list', '--trigger-instance', instanceId)).toContain(`id: ${traceId}`);
      expect(await st2.ok('trace', 'list', '--rule', rule.id)).toContain(traceId);
      const got2 = await st2.ok('trace', 'get', traceId, '-e', hookExecution);
      expect(got2).toContain(hookExecution);
      expect(await st2.ok('trace', 'get', traceId, '--show-executions')).not.toMatch(/\|\s*rule\s*\|/);
      // st2 prints a trace's uid after its id.
      expect(await st2.ok('trace', 'list', '-n', '100', '-a', 'id', 'uid')).toMatch(
        new RegExp(`${traceId}\\s*\\|\\s*trace:[0-9a-f]{32}\\s*\\|`),
      );
    },
    SLOW_MS,
  );

  it(
    'st2 apikey create/list/get/disable/enable/delete',
    async () => {
      const created = await st2.json<{ id: string; key: string }>(
        'apikey',
        'create',
        '-m',
        '{"purpose": "cli"}',
      );
      expect(created.key).toMatch(/^[0-9a-f]{64}$/);
      expect(created.id).toMatch(ID_RE);
      expect(await st2.ok('apikey', 'list')).toMatch(
        new RegExp(`${created.id}\\s*\\|\\s*st2admin\\s*\\|.*purpose`),
      );
      const got = await st2.ok('apikey', 'get', created.id);
      expect(got).toMatch(row('enabled', 'True'));
      expect(got).not.toContain(created.key);
      expect(await st2.ok('apikey', 'disable', created.id)).toMatch(row('enabled', 'False'));
      const refused = await fetch(`${svc.url}/api/v1/actions?limit=1`, {
        headers: { 'st2-api-key': created.key },
      });
      expect(refused.status).toBe(401);
      expect(await st2.ok('apikey', 'enable', created.id)).toMatch(row('enabled', 'True'));
      const allowed = await fetch(`${svc.url}/api/v1/actions?limit=1`, {
        headers: { 'st2-api-key': created.key },
      });
      expect(allowed.status).toBe(200);
      expect(await st2.ok('apikey', 'delete', created.id)).toMatch(
        new RegExp(`Resource with id "${created.id}" has been successfully deleted`),
      );
      expect((await st2('apikey', 'get', created.id)).code).toBe(1);
    },
    SLOW_MS,
  );

  // st2 apikey load PUTs each key by id and, on 404, POSTs it with its key_hash: how keys move
  // from one st2 (or Squall) to another without anyone learning them again.
  it(
    'st2 apikey load brings a key exported elsewhere (id and key_hash), which then authenticates',
    async () => {
      const key = randomBytes(32).toString('hex');
      const id = '5f0000000000000000000001';
      const keyHash = createHash('sha256').update(key).digest('hex');
      writeFileSync(
        path.join(home, 'apikeys.json'),
        JSON.stringify([
          {
            id,
            uid: `api_key:${keyHash}`,
            user: 'st2admin',
            key_hash: keyHash,
            metadata: { from: 'st2' },
            enabled: true,
            created_at: '2026-01-01T00:00:00.000000Z',
          },
        ]),
      );
      expect(await st2.ok('apikey', 'load', 'apikeys.json')).toMatch(
        new RegExp(`${id}\\s*\\|\\s*st2admin\\s*\\|.*from`),
      );
      const got = await st2.json<{ id: string; key_hash: string }>('apikey', 'get', id);
      expect(got).toMatchObject({ id, key_hash: keyHash });
      const allowed = await fetch(`${svc.url}/api/v1/actions?limit=1`, { headers: { 'st2-api-key': key } });
      expect(allowed.status).toBe(200);
      // Loading the same file again updates the key in place (PUT by id).
      await st2.ok('apikey', 'load', 'apikeys.json');
      expect((await st2.json<{ id: string }[]>('apikey', 'list')).filter((k) => k.id === id)).toHaveLength(1);
      await st2.ok('apikey', 'delete', id);
    },
    SLOW_MS,
  );

  it(
    'st2 key load FILE, key list --prefix and --scope user',
    async () => {
      const loaded = await st2.ok('key', 'load', 'keys.json');
      expect(loaded).toMatch(/load_a/);
      expect(await st2.ok('key', 'get', 'load_a')).toMatch(row('value', 'alpha'));
      expect(await st2.ok('key', 'get', 'load_b', '-d')).toMatch(row('value', 'beta'));
      const listed = await st2.json<{ name: string }[]>('key', 'list', '--prefix', 'load_');
      // st2 key list shows every scope the user can see by default.
      expect(listed.map((k) => k.name).sort()).toEqual(['load_a', 'load_b', 'load_mine']);
      const user = await st2.json<{ name: string; scope: string; user: string }[]>(
        'key',
        'list',
        '--scope',
        'user',
      );
      expect(user).toEqual([
        expect.objectContaining({ name: 'load_mine', scope: 'st2kv.user', user: 'st2admin' }),
      ]);
    },
    SLOW_MS,
  );

  it(
    'st2 action-alias list/get/match/execute/test',
    async () => {
      expect(await st2.ok('action-alias', 'list', '-p', 'daily')).toMatch(
        /\|\s*daily\.echo\s*\|\s*daily\s*\|/,
      );
      expect(await st2.ok('action-alias', 'get', 'daily.echo')).toMatch(row('action_ref', 'core.echo'));
      expect(await st2.ok('action-alias', 'match', 'daily echo hi')).toMatch(
        /\|\s*echo\s*\|\s*Echo a message\.\s*\|/,
      );
      const out = await st2.ok('action-alias', 'execute', 'daily echo hello alias');
      expect(out).toMatch(/Matching Action-alias: 'daily\.echo'/);
      const id = /st2 execution get ([0-9a-f]{24})/.exec(out)![1];
      await settle(id);
      const ex = await st2.json<{
        parameters: Record<string, unknown>;
        context: Record<string, unknown>;
      }>('execution', 'get', id, '--attr', 'parameters', 'context');
      expect(ex.parameters.message).toBe('hello alias');
      expect(ex.context).toMatchObject({ action_alias_ref: 'daily.echo', source_channel: 'cli' });
      // `test` runs the alias, then st2's chatops.format_execution_result on its execution, and
      // prints that action's message (st2's default.j2 text).
      const tested = await st2.ok('action-alias', 'test', 'daily echo hello test');
      expect(tested).toMatch(/Formatted ChatOps result message\s+=+\n[\s\S]*hello test[\s\S]*\n=+/);
      const none = await st2('action-alias', 'execute', 'no alias says this');
      expect(none.code).toBe(1);
      expect(none.stdout + none.stderr).toMatch(/400 Client Error[\s\S]*matched no patterns/);
    },
    SLOW_MS,
  );

  it(
    'st2 run --tail and st2 execution tail of a workflow show the tasks that ran before the client listened',
    async () => {
      const id = asyncId(await st2.ok('run', 'daily.tasks', 'seconds=5', '-a'));
      // The first task's line goes out before any tail listens: the stream replays it.
      await waitFor(
        async () => {
          const res = await fetch(`${svc.url}/api/v1/executions/${id}/children`, {
            headers: { 'st2-api-key': await apiKey() },
          });
          const kids = (await res.json()) as { status: string }[];
          return kids.length === 2 && kids[0].status === 'succeeded';
        },
        'first task done, second running',
        60_000,
        250,
      );
      const out = await st2.ok('execution', 'tail', id);
      expect(out).toMatch(
        /Child execution \(task=first\) [0-9a-f]{24} has started\.\s+first-task-line\s+Child execution \(task=first\) [0-9a-f]{24} has finished \(status=succeeded\)\./,
      );
      expect(out).toMatch(/Child execution \(task=second\) [0-9a-f]{24} has started\.\s+second-task-line/);
      expect(out.match(/first-task-line/g)).toHaveLength(1);
      expect(out.match(/task=second\) [0-9a-f]{24} has started/g)).toHaveLength(1);
      expect(out).toContain(`Execution ${id} has completed (status=succeeded).`);

      const run = await st2.ok('run', 'daily.tasks', 'seconds=0', '--tail');
      expect(run).toMatch(/first-task-line[\s\S]*second-task-line/);
      expect(run).toMatch(/has completed \(status=succeeded\)\./);
    },
    SLOW_MS,
  );

  it(
    'st2 action-alias create FILE / update / delete: usable at once by match, execute and the chat route; bad files refused naming the field',
    async () => {
      writeFileSync(
        path.join(home, 'greet.yaml'),
        'name: greet\npack: daily\naction_ref: core.echo\ndescription: Greet someone.\nformats:\n  - "daily greet {{message}}"\n',
      );
      writeFileSync(
        path.join(home, 'greet2.yaml'),
        'name: greet\npack: daily\naction_ref: core.echo\ndescription: Say hello.\nformats:\n  - "daily hello {{message}}"\n',
      );
      writeFileSync(
        path.join(home, 'bad-alias.yaml'),
        'name: broken\npack: daily\naction_ref: core.echo\nformats: "daily broken"\nack:\n  colour: red\n',
      );
      expect(await st2.ok('action-alias', 'create', path.join(home, 'greet.yaml'))).toMatch(
        row('ref', 'daily.greet'),
      );
      expect(await st2.ok('action-alias', 'match', 'daily greet bob')).toMatch(
        /\|\s*greet\s*\|\s*Greet someone\.\s*\|/,
      );
      const out = await st2.ok('action-alias', 'execute', 'daily greet from the cli');
      const id = /st2 execution get ([0-9a-f]{24})/.exec(out)![1];
      await settle(id);
      // hubot-stackstorm's call: the alias by name, the format the bot matched, the command.
      const viaBot = await fetch(`${svc.url}/api/v1/aliasexecution`, {
        method: 'POST',
        headers: { 'st2-api-key': await apiKey(), 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'daily.greet',
          format: 'daily greet {{message}}',
          command: 'daily greet from the bot',
          user: 'bob',
          source_channel: 'ops',
          notification_route: 'hubot',
        }),
      });
      expect(viaBot.status).toBe(201);
      const botRun = ((await viaBot.json()) as { execution: { id: string } }).execution.id;
      await settle(botRun);
      expect(await st2.ok('execution', 'get', botRun, '--attr', 'parameters')).toMatch(/from the bot/);

      const dup = await st2('action-alias', 'create', path.join(home, 'greet.yaml'));
      expect(dup.code).not.toBe(0);
      expect(dup.stdout + dup.stderr).toMatch(/409 Client Error[\s\S]*daily\.greet/);
      const bad = await st2('action-alias', 'create', path.join(home, 'bad-alias.yaml'));
      expect(bad.code).not.toBe(0);
      expect(bad.stdout + bad.stderr).toMatch(/400 Client Error/);
      expect(bad.stdout + bad.stderr).toMatch(/formats: must be array/);
      expect(bad.stdout + bad.stderr).toMatch(/ack\.colour: unknown field "colour"/);
      expect((await st2('action-alias', 'get', 'daily.broken')).code).not.toBe(0);

      await st2.ok('action-alias', 'update', 'daily.greet', path.join(home, 'greet2.yaml'));
      expect(await st2.ok('action-alias', 'get', 'daily.greet')).toMatch(row('description', 'Say hello.'));
      expect(await st2.ok('action-alias', 'match', 'daily hello bob')).toMatch(/\|\s*greet\s*\|/);
      expect((await st2('action-alias', 'match', 'daily greet bob')).code).not.toBe(0);

      // RBAC as for rules: an operator may match aliases, not create or delete them.
      const otto = await operator('otto');
      for (const args of [
        ['create', path.join(home, 'greet.yaml')],
        ['update', 'daily.greet', path.join(home, 'greet.yaml')],
        ['delete', 'daily.greet'],
      ]) {
        const denied = await otto('action-alias', ...args);
        expect(denied.code, args.join(' ')).not.toBe(0);
        expect(denied.stdout + denied.stderr, args.join(' ')).toMatch(/403 Client Error/);
      }

      await st2.ok('action-alias', 'delete', 'daily.greet');
      expect((await st2('action-alias', 'get', 'daily.greet')).code).not.toBe(0);
      expect((await st2('action-alias', 'match', 'daily hello bob')).code).not.toBe(0);
      // The pack's own alias is untouched by all this.
      expect(await st2.ok('action-alias', 'match', 'daily echo hi')).toMatch(/\|\s*echo\s*\|/);
    },
    SLOW_MS,
  );

  it(
    'st2 sensor list/get/disable/enable, timer list/get, policy list/get, policy-type list',
    async () => {
      const sensors = await st2.json<{ ref: string }[]>('sensor', 'list');
      expect(sensors.length).toBeGreaterThan(0);
      const ref = sensors[0].ref;
      expect(await st2.ok('sensor', 'get', ref)).toMatch(row('ref', ref));
      expect(await st2.ok('sensor', 'disable', ref)).toMatch(row('enabled', 'False'));
      expect(await st2.ok('sensor', 'get', ref)).toMatch(row('enabled', 'False'));
      expect(await st2.ok('sensor', 'enable', ref)).toMatch(row('enabled', 'True'));

      const timers = await st2.json<
        { id: string; pack: string; name: string; type: string; parameters: unknown }[]
      >('timer', 'list');
      const hourly = timers.find((t) => t.type === 'core.st2.IntervalTimer');
      expect(hourly?.parameters).toEqual({ unit: 'hours', delta: 1 });
      const timerRef = `${hourly!.pack}.${hourly!.name}`;
      expect(await st2.ok('timer', 'get', timerRef)).toMatch(row('type', 'core.st2.IntervalTimer'));
      expect(await st2.ok('timer', 'list', '-ty', 'core.st2.CronTimer')).not.toContain(hourly!.name);

      const policies = await st2.ok('policy', 'list');
      expect(policies).toMatch(/\|\s*examples\.sequential_concurrency\s*\|/);
      expect(await st2.ok('policy', 'get', 'examples.sequential_concurrency')).toMatch(
        row('policy_type', 'action.concurrency'),
      );
      expect(await st2.ok('policy-type', 'list')).toMatch(/\|\s*action\.concurrency\s*\|\s*action\s*\|/);
      expect(await st2.ok('policy-type', 'list', '-r', 'action')).not.toMatch(/\|\s*\S+\s*\|\s*sensor\s*\|/);
    },
    SLOW_MS,
  );

  it(
    'st2 runner list/get and st2 trigger get',
    async () => {
      expect(await st2.ok('runner', 'list')).toMatch(/\|\s*orquesta\s*\|/);
      const runner = await st2.ok('runner', 'get', 'local-shell-cmd');
      expect(runner).toMatch(row('name', 'local-shell-cmd'));
      expect(runner).toMatch(/runner_parameters/);
      const trigger = await st2.ok('trigger', 'get', 'core.st2.webhook');
      expect(trigger).toMatch(row('ref', 'core.st2.webhook'));
      expect(trigger).toMatch(/parameters_schema/);
    },
    SLOW_MS,
  );

  it(
    'st2 role list/get and role-assignment list (RBAC)',
    async () => {
      expect(await st2.ok('role', 'list')).toMatch(/\|\s*admin\s*\|\s*admin\s*\|\s*True\s*\|/);
      expect(await st2.ok('role', 'get', 'admin')).toMatch(row('name', 'admin'));
      expect(await st2.ok('role-assignment', 'list', '-u', 'st2admin')).toMatch(
        /\|\s*\S+\s*\|\s*admin\s*\|\s*st2admin\s*\|/,
      );
    },
    SLOW_MS,
  );

  it(
    'st2 service-registry group list and member list name this process',
    async () => {
      expect(await st2.ok('service-registry', 'group', 'list')).toMatch(/\|\s*squall\s*\|/);
      const members = await st2.json<
        { group_id: string; member_id: string; capabilities: { pid: number } }[]
      >('service-registry', 'member', 'list');
      expect(members.map((m) => m.capabilities.pid)).toContain(svc.child.pid);
      const missing = await st2('service-registry', 'member', 'list', '--group-id', 'nope');
      expect(missing.code).toBe(1);
      expect(missing.stdout + missing.stderr).toMatch(/Group with ID "nope" not found/);
    },
    SLOW_MS,
  );

  it(
    'st2 action create, delete, clone and update (beyond enabled) answer that actions are pack files (405)',
    async () => {
      const create = await st2('action', 'create', 'action.yaml');
      expect(create.code).not.toBe(0);
      expect(create.stdout + create.stderr).toMatch(/405 Client Error[\s\S]*st2 pack register/);
      const del = await st2('action', 'delete', 'core.local', '-y');
      expect(del.stdout + del.stderr).toMatch(/405 Client Error[\s\S]*st2 pack register/);
      const clone = await st2('action', 'clone', 'core.local', 'daily', 'local_copy');
      expect(clone.stdout + clone.stderr).toMatch(
        /405 Client Error[\s\S]*Copy its files[\s\S]*st2 pack register/,
      );
      expect((await st2('action', 'get', 'daily.local_copy')).code).toBe(1);
      // `st2 action update FILE` with a changed description: refused, not answered 200 unchanged.
      writeFileSync(
        path.join(home, 'noop-update.yaml'),
        'name: noop\npack: core\nrunner_type: noop\ndescription: changed by the CLI\n',
      );
      const update = await st2('action', 'update', 'core.noop', 'noop-update.yaml');
      expect(update.code).not.toBe(0);
      expect(update.stdout + update.stderr).toMatch(/405 Client Error[\s\S]*to change description/);
      expect(await st2.ok('action', 'disable', 'core.noop')).toMatch(row('enabled', 'False'));
      expect(await st2.ok('action', 'enable', 'core.noop')).toMatch(row('enabled', 'True'));
      expect(await st2.ok('action', 'get', 'core.noop')).not.toContain('changed by the CLI');
      expect(await st2.ok('action', 'get', 'core.local')).toMatch(row('ref', 'core.local'));
    },
    SLOW_MS,
  );

  it(
    'st2 policy list -r/-pt and policy-type get/list -r filter; policy create/delete and runner disable answer 405',
    async () => {
      const byResource = await st2.json<{ ref: string }[]>(
        'policy',
        'list',
        '-r',
        'examples.orquesta-sequential',
      );
      expect(byResource.map((p) => p.ref)).toEqual(['examples.sequential_concurrency']);
      expect(await st2.ok('policy', 'list', '-r', 'core.local')).toMatch(/No matching items found/);
      expect(await st2.ok('policy', 'list', '-pt', 'action.retry')).not.toContain('sequential_concurrency');
      const type = await st2.ok('policy-type', 'get', 'action.concurrency');
      expect(type).toMatch(row('resource_type', 'action'));
      expect(type).toMatch(/threshold/);
      expect(await st2.ok('policy-type', 'list', '-r', 'sensor')).toMatch(/No matching items found/);

      writeFileSync(
        path.join(home, 'policy.yaml'),
        'name: made\npack: daily\nresource_ref: core.local\npolicy_type: action.concurrency\nparameters:\n  threshold: 1\n',
      );
      const create = await st2('policy', 'create', 'policy.yaml');
      expect(create.code).not.toBe(0);
      expect(create.stdout + create.stderr).toMatch(/405 Client Error[\s\S]*packs\/<pack>\/policies\//);
      const del = await st2('policy', 'delete', 'examples.sequential_concurrency');
      expect(del.stdout + del.stderr).toMatch(/405 Client Error[\s\S]*st2 pack register/);
      expect(await st2.ok('policy', 'get', 'examples.sequential_concurrency')).toMatch(
        row('enabled', 'True'),
      );

      const runner = await st2('runner', 'disable', 'noop');
      expect(runner.code).not.toBe(0);
      expect(runner.stdout + runner.stderr).toMatch(/405 Client Error[\s\S]*st2 action disable/);
      expect(await st2.ok('runner', 'get', 'noop')).toMatch(row('enabled', 'True'));
    },
    SLOW_MS,
  );

  it(
    'st2 webhook get URL shows the hook and its rules; st2 run -u USER runs as that user (admins only)',
    async () => {
      const hook = await st2.ok('webhook', 'get', 'daily_hook');
      expect(hook).toMatch(row('type', 'core.st2.webhook'));
      expect(hook).toMatch(/"daily\.hook"/);
      expect((await st2('webhook', 'get', 'no_such_hook')).code).toBe(1);

      const out = await st2.ok('run', 'core.noop', '-u', 'carol', '--attr', 'context.user', 'status');
      expect(out).toMatch(/context\.user: carol/);
      expect(out).toMatch(/status: succeeded/);

      // Someone without the admin role may not run as another user (st2: 403).
      const olga = await operator('olga');
      const denied = await olga('run', 'core.noop', '-u', 'carol');
      expect(denied.code).not.toBe(0);
      expect(denied.stdout + denied.stderr).toMatch(/403 Client Error[\s\S]*can only be provided by admins/);
      expect(await olga.ok('run', 'core.noop', '--attr', 'context.user')).toMatch(/context\.user: olga/);
      // Nor through the context of the request body, which st2client sends as it is.
      const login = await fetch(`${svc.url}/auth/v1/tokens`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('olga:olga-password-1').toString('base64')}` },
      });
      const { token } = (await login.json()) as { token: string };
      const viaContext = await fetch(`${svc.url}/api/v1/executions`, {
        method: 'POST',
        headers: { 'x-auth-token': token, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'core.noop', context: { user: 'st2admin' } }),
      });
      expect(viaContext.status).toBe(403);
    },
    SLOW_MS,
  );
});
