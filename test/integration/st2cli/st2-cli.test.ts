import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, tempDir } from '../../support/servers.js';
import { startServiceProcess, type ServiceProcess } from '../../support/service-process.js';
import { ST2_CLI_INSTALLABLE, ensureSt2Client, st2Cli, type St2Cli } from '../../support/st2cli.js';
import { waitFor } from '../../support/wait.js';

/**
 * Issue 5: the official `st2` CLI (PyPI st2client 3.9) against `squall start`, checking what the
 * CLI prints. Each command below is what a StackStorm user would type.
 */

const PASSWORD = 'st2-cli-test-password';
const ID_RE = /[0-9a-f]{24}/;
/** `date` output, e.g. "Sun Nov 22 20:14:31 UTC 2026". */
const DATE_LINE_RE = /stdout: [A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d \S+ \d{4}/;

const RULE_YAML = `---
name: cli_rule
pack: clitests
description: Rule created by the st2 CLI test.
enabled: true
trigger:
  type: core.st2.webhook
  parameters:
    url: cli_hook
criteria:
  trigger.body.name:
    type: equals
    pattern: st2
action:
  ref: core.local
  parameters:
    cmd: echo {{ trigger.body.name }}
`;

/** A property row of st2's vertical table: `| name  | value  |`. */
function row(name: string, value: string): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`\\|\\s*${esc(name)}\\s*\\|\\s*${esc(value)}\\s*\\|`);
}

for (const target of STORE_TARGETS) {
  const needs = target.available ? 'python3 with venv (for st2client)' : 'MongoDB (SQUALL_TEST_MONGO_URL)';
  describeWithServer(
    `official st2 CLI against squall start (${target.kind})`,
    needs,
    target.available && ST2_CLI_INSTALLABLE,
    () => {
      let svc: ServiceProcess;
      let st2: St2Cli;
      let cleanup: () => void;
      let home: string;

      async function executionStatus(id: string): Promise<string> {
        const ex = await st2.json<{ status: string }>('execution', 'get', id);
        return ex.status;
      }

      beforeAll(async () => {
        const bin = await ensureSt2Client();
        const temp = tempDir('squall-st2cli-');
        cleanup = temp.cleanup;
        home = path.join(temp.dir, 'home');
        const env: NodeJS.ProcessEnv = {
          SQUALL_AUTH_ADMIN_PASSWORD: PASSWORD,
          ...(target.kind === 'mongo' ? { SQUALL_MONGO_URL: freshMongoUrl() } : {}),
        };
        svc = await startServiceProcess(['--data-dir', path.join(temp.dir, 'data')], env, 60_000);
        mkdirSync(home, { recursive: true });
        writeFileSync(path.join(home, 'rule.yaml'), RULE_YAML);
        st2 = st2Cli(bin, svc.url, home);
      }, 600_000);

      afterAll(async () => {
        await svc?.stop();
        cleanup?.();
      });

      it('st2 login caches a token; st2 whoami names the user and RBAC roles', async () => {
        const denied = await st2('login', 'st2admin', '-p', 'wrong-password');
        expect(denied.code).not.toBe(0);
        expect(denied.stdout + denied.stderr).toMatch(/Failed to log in as st2admin/);

        expect(await st2.ok('login', 'st2admin', '-p', PASSWORD)).toMatch(/Logged in as st2admin/);
        const who = await st2.ok('whoami');
        expect(who).toMatch(/Currently logged in as "st2admin"/);
        expect(who).toMatch(/Roles: admin/);
      });

      let dateId: string;
      it('st2 run core.local cmd=date waits and prints the succeeded execution with the date', async () => {
        const out = await st2.ok('run', 'core.local', 'cmd=date');
        expect(out).toMatch(/action\.ref: core\.local/);
        expect(out).toMatch(/status: succeeded/);
        expect(out).toMatch(/context\.user: st2admin/);
        expect(out).toMatch(DATE_LINE_RE);
        expect(out).toMatch(/return_code: 0/);
        dateId = /^id: ([0-9a-f]{24})$/m.exec(out)![1];
      });

      let asyncId: string;
      it('st2 run --async returns at once with the commands to follow the execution', async () => {
        const out = await st2.ok('run', 'core.local', 'cmd=date', '--async');
        const m = /st2 execution get ([0-9a-f]{24})/.exec(out);
        expect(m, out).not.toBeNull();
        asyncId = m![1];
        expect(asyncId).not.toBe(dateId);
        expect(out).toContain(`st2 execution tail ${asyncId}`);
        await waitFor(
          async () => (await executionStatus(asyncId)) === 'succeeded',
          'async run to succeed',
          30_000,
          250,
        );
      });

      it('st2 execution list -n 1 shows the newest execution and says more exist', async () => {
        const r = await st2('execution', 'list', '-n', '1');
        expect(r.code).toBe(0);
        const out = r.stdout;
        expect(out).toContain(asyncId);
        expect(out).not.toContain(dateId);
        expect(out).toMatch(/succeeded \(\d+s elapsed\)/);
        // st2 prints this note (on stderr) only when X-Total-Count says there are more than shown.
        expect(r.stderr).toMatch(/Only one action execution is displayed/);
        const listed = await st2.json<{ id: string }[]>('execution', 'list', '-n', '2');
        // The API answers newest first; st2 prints the page reversed (oldest of the page on top).
        expect(listed.map((e) => e.id)).toEqual([dateId, asyncId]);
      });

      it('st2 execution get ID prints its parameters, status log and result', async () => {
        const out = await st2.ok('execution', 'get', asyncId);
        expect(out).toMatch(new RegExp(`^id: ${asyncId}$`, 'm'));
        expect(out).toMatch(/cmd: date/);
        expect(out).toMatch(/status: succeeded \(\d+s elapsed\)/);
        expect(out).toMatch(/- status: running/);
        expect(out).toMatch(DATE_LINE_RE);
        const missing = await st2('execution', 'get', '000000000000000000000000');
        expect(missing.code).toBe(1);
        expect(missing.stdout).toMatch(/Action Execution "000000000000000000000000" is not found/);
      });

      // st2 ends its stream (end_event=st2.execution__update&end_execution_id=ID) only on a
      // completed status; Squall's /stream/v1/stream must not close on the 'running' update.
      it('st2 run --tail streams the output lines, and st2 execution tail replays a finished one', async () => {
        const out = await st2.ok(
          'run',
          'core.local',
          'cmd=echo first-line; sleep 1; echo second-line',
          '--tail',
        );
        expect(out).toMatch(/Tailing execution "([0-9a-f]{24})"/);
        expect(out).toMatch(/first-line\nsecond-line/);
        const id = /Tailing execution "([0-9a-f]{24})"/.exec(out)![1];
        expect(out).toContain(`Execution ${id} has completed (status=succeeded).`);
        const tail = await st2.ok('execution', 'tail', asyncId);
        expect(tail).toMatch(/[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d/);
        expect(tail).toContain(`Execution ${asyncId} has completed (status=succeeded).`);
      });

      it('st2 execution cancel stops a running execution', async () => {
        const started = await st2.ok('run', 'core.local', 'cmd=sleep 60', '--async');
        const id = /st2 execution get ([0-9a-f]{24})/.exec(started)![1];
        await waitFor(async () => (await executionStatus(id)) === 'running', 'sleep to run', 30_000, 200);
        const out = await st2.ok('execution', 'cancel', id);
        expect(out).toMatch(new RegExp(`action execution with id ${id} canceled`, 'i'));
        await waitFor(async () => (await executionStatus(id)) === 'canceled', 'status canceled', 30_000, 200);
        expect(await st2.ok('execution', 'get', id)).toMatch(/status: canceled/);
        // A finished execution: st2 answers 200 and the CLI exits 0, printing why nothing happened.
        expect(await st2.ok('execution', 'cancel', id)).toMatch(
          new RegExp(`action execution with id ${id} canceled`, 'i'),
        );
        const done = await st2('execution', 'cancel', dateId);
        expect(done.code, done.stderr).toBe(0);
        expect(done.stdout).toContain('Action cannot be canceled. State = succeeded.');
        expect(await st2.ok('execution', 'get', dateId)).toMatch(/status: succeeded/);
      });

      it('st2 execution re-run starts a new execution with the same parameters', async () => {
        const out = await st2.ok('execution', 're-run', dateId);
        const newId = /^id: ([0-9a-f]{24})$/m.exec(out)?.[1];
        expect(newId, out).toMatch(ID_RE);
        expect(newId).not.toBe(dateId);
        expect(out).toMatch(/cmd: date/);
        expect(out).toMatch(/status: succeeded/);
        expect(out).toMatch(DATE_LINE_RE);
        const ex = await st2.json<{ context: Record<string, unknown> }>(
          'execution',
          'get',
          newId!,
          '--attr',
          'context',
        );
        expect(ex.context).toMatchObject({ re_run: { ref: dateId } });
      });

      it('st2 action list -p core and st2 action get core.local', async () => {
        const list = await st2.ok('action', 'list', '-p', 'core');
        for (const ref of ['core.local', 'core.remote', 'core.http', 'core.ask']) expect(list).toContain(ref);
        expect(list).not.toMatch(/examples\./);
        const get = await st2.ok('action', 'get', 'core.local');
        expect(get).toMatch(row('ref', 'core.local'));
        expect(get).toMatch(row('runner_type', 'local-shell-cmd'));
        expect(get).toMatch(row('uid', 'action:core:local'));
      });

      it('st2 rule create FILE, list, get, disable, enable and delete; st2 webhook list shows its hook', async () => {
        const created = await st2.ok('rule', 'create', 'rule.yaml');
        expect(created).toMatch(row('ref', 'clitests.cli_rule'));
        expect(created).toMatch(row('enabled', 'True'));

        expect(await st2.ok('rule', 'list', '-p', 'clitests')).toMatch(
          /clitests\.cli_rule\s*\|\s*clitests\s*\|/,
        );
        const get = await st2.ok('rule', 'get', 'clitests.cli_rule');
        expect(get).toMatch(row('description', 'Rule created by the st2 CLI test.'));
        expect(get).toMatch(/"url": "cli_hook"/);

        expect(await st2.ok('webhook', 'list')).toMatch(/\|\s*cli_hook\s*\|\s*core\.st2\.webhook\s*\|/);

        expect(await st2.ok('rule', 'disable', 'clitests.cli_rule')).toMatch(row('enabled', 'False'));
        expect(await st2.ok('rule', 'get', 'clitests.cli_rule')).toMatch(row('enabled', 'False'));
        expect(await st2.ok('rule', 'enable', 'clitests.cli_rule')).toMatch(row('enabled', 'True'));
        expect(await st2.ok('rule', 'get', 'clitests.cli_rule')).toMatch(row('enabled', 'True'));

        expect(await st2.ok('rule', 'delete', 'clitests.cli_rule')).toMatch(
          /Resource with id "clitests.cli_rule" has been successfully deleted/,
        );
        const gone = await st2('rule', 'get', 'clitests.cli_rule');
        expect(gone.code).toBe(1);
        expect(gone.stdout).toMatch(/Rule "clitests.cli_rule" is not found/);
        expect(await st2.ok('webhook', 'list')).not.toContain('cli_hook');
      });

      it('st2 key set, get (secret, --decrypt), list and delete', async () => {
        const set = await st2.ok('key', 'set', 'cli_greeting', 'hello');
        expect(set).toMatch(row('name', 'cli_greeting'));
        expect(set).toMatch(row('value', 'hello'));
        expect(set).toMatch(row('scope', 'st2kv.system'));
        expect(await st2.ok('key', 'get', 'cli_greeting')).toMatch(row('value', 'hello'));

        await st2.ok('key', 'set', 'cli_secret', 's3cret-value', '-e');
        const masked = await st2.json<{ value: string; secret: boolean }>('key', 'get', 'cli_secret');
        expect(masked.secret).toBe(true);
        expect(masked.value).not.toContain('s3cret-value');
        expect(await st2.ok('key', 'get', 'cli_secret', '-d')).toMatch(row('value', 's3cret-value'));

        await st2.ok('key', 'set', 'cli_mine', 'user-value', '-s', 'user');
        const list = await st2.ok('key', 'list');
        expect(list).toMatch(
          /\|\s*cli_greeting\s*\|\s*hello\s*\|\s*False\s*\|\s*False\s*\|\s*st2kv\.system\s*\|/,
        );
        expect(list).toMatch(/\|\s*cli_secret\s*\|/);
        expect(list).toMatch(/\|\s*cli_mine\s*\|\s*user-value\s*\|.*st2kv\.user\s*\|\s*st2admin\s*\|/);
        expect(list).not.toContain('s3cret-value');
        const prefixed = await st2.json<{ name: string }[]>('key', 'list', '--prefix', 'cli_g');
        expect(prefixed.map((k) => k.name)).toEqual(['cli_greeting']);

        expect(await st2.ok('key', 'delete', 'cli_greeting')).toMatch(
          /Resource with id "cli_greeting" has been successfully deleted/,
        );
        const gone = await st2('key', 'get', 'cli_greeting');
        expect(gone.code).toBe(1);
        expect(gone.stdout).toMatch(/Key Value Pair "cli_greeting" is not found/);
      });

      it('st2 trigger list, st2 pack list and st2 pack get core', async () => {
        const triggers = await st2.ok('trigger', 'list');
        for (const ref of ['core.st2.webhook', 'core.st2.IntervalTimer', 'core.st2.generic.actiontrigger']) {
          expect(triggers).toContain(ref);
        }
        const packs = await st2.ok('pack', 'list');
        expect(packs).toMatch(/\|\s*core\s*\|\s*core\s*\|/);
        const core = await st2.ok('pack', 'get', 'core');
        expect(core).toMatch(row('name', 'core'));
        expect(core).toMatch(/\|\s*version\s*\|\s*\d+\.\d+\.\d+\s*\|/);
      });

      // Needs GET /api/v1/inquiries, GET|PUT /api/v1/inquiries/:id and the inquirer runner
      // (core.ask); st2's `inquiry list` prints an empty table when the route is missing, so the
      // test checks that the pending inquiry is listed.
      it('st2 inquiry list, get and respond -r resume a core.ask inquiry', async () => {
        const started = await st2.ok('run', 'core.ask', '--async');
        const id = /st2 execution get ([0-9a-f]{24})/.exec(started)![1];
        await waitFor(
          async () => (await executionStatus(id)) === 'pending',
          'core.ask to be pending',
          30_000,
          200,
        );

        const list = await st2.ok('inquiry', 'list');
        expect(list).toMatch(new RegExp(`\\|\\s*${id}\\s*\\|`));
        const get = await st2.ok('inquiry', 'get', id);
        expect(get).toMatch(row('id', id));
        expect(get).toMatch(/"continue"/);

        const bad = await st2('inquiry', 'respond', id, '-r', '{"continue": "maybe"}');
        expect(bad.code).toBe(1);
        expect(bad.stdout + bad.stderr).toMatch(/did not pass schema validation/);

        const out = await st2.ok('inquiry', 'respond', id, '-r', '{"continue": true}');
        expect(out).toMatch(new RegExp(`Response accepted for inquiry ${id}`));
        await waitFor(
          async () => (await executionStatus(id)) === 'succeeded',
          'inquiry to succeed',
          30_000,
          200,
        );
        const ex = await st2.json<{ result: { response: unknown } }>('execution', 'get', id);
        expect(ex.result.response).toEqual({ continue: true });
        expect(await st2.ok('inquiry', 'list')).not.toContain(id);
      });
    },
  );
}
