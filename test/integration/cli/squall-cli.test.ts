import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORE_TARGETS, describeWithServer, freshMongoUrl, tempDir } from '../../support/servers.js';
import { ROOT, startServiceProcess, type ServiceProcess } from '../../support/service-process.js';
import { waitFor } from '../../support/wait.js';
import { writeTestPack } from '../../support/packs.js';

const ADMIN_PASSWORD = 'cli-test-admin-pw';

/** The `squall` CLI in a child process (async: never block the test process). */
function squall(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const target of STORE_TARGETS) {
  describeWithServer(
    `the squall CLI against squall start (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let svc: ServiceProcess;
      const data = tempDir();
      const home = tempDir();
      let env: NodeJS.ProcessEnv;
      const admin = () => ({ ...env });

      beforeAll(async () => {
        // A one-task action chain: its task is a child execution, which `execution list` hides by default.
        writeTestPack(path.join(home.dir, 'packs'), 'clichain', {
          'actions/chain.yaml':
            'name: chain\nrunner_type: action-chain\nenabled: true\nentry_point: chain_flow.yaml\n',
          'actions/chain_flow.yaml': 'chain:\n  - name: one\n    ref: core.noop\ndefault: one\n',
        });
        svc = await startServiceProcess(['--data-dir', data.dir], {
          SQUALL_PACKS_PATHS: path.join(home.dir, 'packs'),
          SQUALL_AUTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
          SQUALL_LOG_LEVEL: 'warn',
          ...(target.kind === 'mongo' ? { SQUALL_MONGO_URL: freshMongoUrl() } : {}),
        });
        env = {
          SQUALL_API_URL: svc.url,
          XDG_CONFIG_HOME: home.dir,
          SQUALL_API_KEY: '',
          SQUALL_AUTH_TOKEN: '',
        };
        const login = await squall(['login', 'st2admin', '-p', ADMIN_PASSWORD], env);
        expect(login.code, login.stderr).toBe(0);
      }, 60_000);
      afterAll(async () => {
        await svc?.stop();
        data.cleanup();
        home.cleanup();
      });

      it("squall run core.local cmd='echo hi' waits, succeeds and prints stdout hi", async () => {
        const res = await squall(['run', 'core.local', 'cmd=echo hi'], admin());
        expect(res.code, res.stderr).toBe(0);
        expect(res.stdout).toMatch(/status: succeeded/);
        expect(res.stdout).toMatch(/stdout: hi$/m);
      });

      it('squall run core.local without cmd fails naming the action and the parameter', async () => {
        const res = await squall(['run', 'core.local'], admin());
        expect(res.code).toBe(1);
        expect(res.stderr).toContain("core.local: 'cmd' is a required property");
      });

      it('an error the server gives a hint prints it under the message: what to list, which key to set', async () => {
        const missing = await squall(['run', 'nope.nothing'], admin());
        expect(missing.code).toBe(1);
        expect(missing.stderr).toBe(
          'squall: 404: Action "nope.nothing" was not found\n  hint: list actions with `squall action list`\n',
        );
        const search = await squall(['pack', 'search', 'slack'], admin());
        expect(search.code).toBe(1);
        expect(search.stderr).toBe(
          'squall: 400: no pack index is configured\n  hint: set packs.index_url (URL or file path)\n',
        );
        // Webhook callers (curl, GitHub) read the hint in the answer's body.
        const hook = await fetch(`${svc.url}/api/v1/webhooks/no/such/hook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        expect(await hook.json()).toMatchObject({
          code: 'UNAUTHORIZED',
          hint: expect.stringContaining('HMAC'),
        });
      });

      it("squall run core.local cmd='exit 3' fails with return_code 3 and exit code 1", async () => {
        const res = await squall(['run', 'core.local', 'cmd=exit 3'], admin());
        expect(res.code).toBe(1);
        expect(res.stdout).toMatch(/status: failed/);
        expect(res.stdout).toMatch(/return_code: 3/);
      });

      it('execution list, get, rerun and cancel work and show what users expect', async () => {
        const asyncRun = await squall(
          ['run', 'core.local', 'cmd=sleep 20', 'timeout=60', '--async', '--json'],
          admin(),
        );
        expect(asyncRun.code, asyncRun.stderr).toBe(0);
        const { id } = JSON.parse(asyncRun.stdout) as { id: string };
        const list = await squall(['execution', 'list', '-n', '3'], admin());
        expect(list.stdout).toContain(id);
        await waitFor(
          async () =>
            JSON.parse((await squall(['execution', 'get', id, '--json'], admin())).stdout).status ===
            'running',
          'running',
        );
        const cancel = await squall(['execution', 'cancel', id], admin());
        expect(cancel.code, cancel.stderr).toBe(0);
        expect(cancel.stdout).toContain(id);
        const canceled = await waitFor(
          async () => {
            const got = JSON.parse((await squall(['execution', 'get', id, '--json'], admin())).stdout) as {
              status: string;
            };
            return got.status === 'canceled' ? got : null;
          },
          'canceled',
          20_000,
        );
        expect(canceled.status).toBe('canceled');

        const first = JSON.parse(
          (await squall(['run', 'core.local', 'cmd=echo again', '--json'], admin())).stdout,
        ) as { id: string };
        // squall's CLI still calls cancelling a finished execution an error (the API answers st2's 200).
        const late = await squall(['execution', 'cancel', first.id], admin());
        expect(late.code).toBe(1);
        expect(late.stderr).toContain('Action cannot be canceled. State = succeeded.');
        const rerun = await squall(['execution', 'rerun', first.id, 'cmd=echo rerun'], admin());
        expect(rerun.code, rerun.stderr).toBe(0);
        expect(rerun.stdout).toMatch(/stdout: rerun$/m);
        const get = await squall(['execution', 'get', first.id], admin());
        expect(get.stdout).toMatch(/action\.ref: core\.local/);
        expect(get.stdout).toMatch(/status: succeeded/);
      }, 60_000);

      it('execution list shows top-level executions only, as st2; --showall adds workflow tasks', async () => {
        const run = await squall(['run', 'clichain.chain', '--json'], admin());
        expect(run.code, run.stderr).toBe(0);
        const parent = JSON.parse(run.stdout) as { id: string; status: string };
        expect(parent.status).toBe('succeeded');
        const listed = async (args: string[]) =>
          JSON.parse(
            (await squall(['execution', 'list', '-n', '20', '--json', ...args], admin())).stdout,
          ) as Array<{
            id: string;
            parent?: string;
          }>;
        const top = await listed([]);
        expect(top.map((e) => e.id)).toContain(parent.id);
        expect(top.filter((e) => e.parent)).toEqual([]);
        for (const flag of ['--showall', '-l']) {
          const all = await listed([flag]);
          expect(all.map((e) => e.id)).toContain(parent.id);
          expect(all.filter((e) => e.parent === parent.id)).toHaveLength(1);
        }
      });

      it('rule create FILE, list and delete', async () => {
        const file = `${home.dir}/cli_rule.yaml`;
        writeFileSync(
          file,
          'name: cli_rule\npack: clitest\nenabled: true\ntrigger:\n  type: core.st2.webhook\n  parameters:\n    url: cli-hook\ncriteria:\n  trigger.body.go:\n    type: equals\n    pattern: yes\naction:\n  ref: core.noop\n',
        );
        const created = await squall(['rule', 'create', file], admin());
        expect(created.code, created.stderr).toBe(0);
        expect(created.stdout).toContain('clitest.cli_rule');
        const list = await squall(['rule', 'list'], admin());
        expect(list.stdout).toContain('clitest.cli_rule');
        const deleted = await squall(['rule', 'delete', 'clitest.cli_rule'], admin());
        expect(deleted.code, deleted.stderr).toBe(0);
        expect((await squall(['rule', 'list'], admin())).stdout).not.toContain('clitest.cli_rule');
      });

      it('enable and disable an action, a rule and an API key, each saying what it changed', async () => {
        const off = await squall(['action', 'disable', 'core.noop'], admin());
        expect(off.code, off.stderr).toBe(0);
        expect(off.stdout).toBe('action core.noop: disabled\n');
        const on = await squall(['action', 'enable', 'core.noop', '--json'], admin());
        expect(on.code, on.stderr).toBe(0);
        expect(JSON.parse(on.stdout)).toMatchObject({ ref: 'core.noop', enabled: true });

        const file = `${home.dir}/toggled_rule.yaml`;
        writeFileSync(
          file,
          'name: toggled_rule\npack: clitest\nenabled: true\ntrigger:\n  type: core.st2.webhook\n  parameters:\n    url: toggled-hook\naction:\n  ref: core.noop\n',
        );
        expect((await squall(['rule', 'create', file], admin())).code).toBe(0);
        const ruleOff = await squall(['rule', 'disable', 'clitest.toggled_rule', '--json'], admin());
        expect(ruleOff.code, ruleOff.stderr).toBe(0);
        expect(JSON.parse(ruleOff.stdout)).toMatchObject({ ref: 'clitest.toggled_rule', enabled: false });
        const ruleOn = await squall(['rule', 'enable', 'clitest.toggled_rule', '--json'], admin());
        expect(JSON.parse(ruleOn.stdout)).toMatchObject({ ref: 'clitest.toggled_rule', enabled: true });

        const key = JSON.parse((await squall(['apikey', 'create', '--json'], admin())).stdout) as {
          id: string;
        };
        const keyOff = await squall(['apikey', 'disable', key.id, '--json'], admin());
        expect(keyOff.code, keyOff.stderr).toBe(0);
        expect(JSON.parse(keyOff.stdout)).toMatchObject({ id: key.id, user: 'st2admin', enabled: false });
        const keyOn = await squall(['apikey', 'enable', key.id, '--json'], admin());
        expect(JSON.parse(keyOn.stdout)).toMatchObject({ id: key.id, user: 'st2admin', enabled: true });
      });

      it('never prints a secret parameter, and the secret is not in the service log', async () => {
        const secret = `cli-secret-${Date.now()}-owl`;
        const run = await squall(
          ['run', 'core.local', `cmd=echo "{{ sudo_password }}"`, `sudo_password=${secret}`, '--json'],
          admin(),
        );
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout + run.stderr).not.toContain(secret);
        const { id } = JSON.parse(run.stdout) as { id: string };
        const get = await squall(['execution', 'get', id, '--yaml'], admin());
        expect(get.stdout).toContain('********');
        expect(get.stdout).not.toContain(secret);
        const list = await squall(['execution', 'list', '-n', '5', '--json'], admin());
        expect(list.stdout).not.toContain(secret);
        expect(svc.output.join('\n')).not.toContain(secret);
      });

      it('refuses an observer through the CLI with the permission it lacks', async () => {
        const create = await fetch(`${svc.url}/api/v1/users`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-auth-token': await adminToken(svc.url) },
          body: JSON.stringify({ name: 'olga', password: 'olga-password', roles: ['observer'] }),
        });
        expect(create.status).toBe(201);
        const olgaHome = tempDir();
        const olga = { ...env, XDG_CONFIG_HOME: olgaHome.dir };
        expect((await squall(['login', 'olga', '-p', 'olga-password'], olga)).code).toBe(0);
        const list = await squall(['execution', 'list', '-n', '1'], olga);
        expect(list.code, list.stderr).toBe(0);
        const run = await squall(['run', 'core.local', 'cmd=echo no'], olga);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/403: User "olga" doesn't have required permission "action_execute"/);
        expect(run.stderr).toMatch(/hint:/);
        // One write per resource group, each refused with the permission it needs.
        const refusals: Array<[string[], string]> = [
          [['action', 'disable', 'core.local'], 'action_modify'],
          [['key', 'set', 'olga_key', 'v'], 'key_value_pair_set'],
          [['pack', 'register', 'examples'], 'pack_register'],
          [['rule', 'disable', 'examples.sample_rule_with_webhook'], 'rule_modify'],
          [['apikey', 'create'], 'api_key'],
        ];
        for (const [args, permission] of refusals) {
          const res = await squall(args, olga);
          expect(res.code, `${args.join(' ')}: ${res.stdout}`).toBe(1);
          expect(res.stderr, args.join(' ')).toMatch(new RegExp(`403: .*${permission}`));
        }
        olgaHome.cleanup();
      });

      it('streams create and update events and output lines over SSE for a run', async () => {
        const token = await adminToken(svc.url);
        const abort = new AbortController();
        const res = await fetch(
          `${svc.url}/stream/v1/stream?events=st2.execution__create,st2.execution__update,st2.execution.output__create`,
          {
            headers: { 'x-auth-token': token, accept: 'text/event-stream' },
            signal: abort.signal,
          },
        );
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toContain('text/event-stream');
        const seen: string[] = [];
        let text = '';
        const reader = res.body!.getReader();
        const reading = (async () => {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            text += new TextDecoder().decode(value);
          }
        })().catch(() => undefined);
        const created = await fetch(`${svc.url}/api/v1/executions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-auth-token': token },
          body: JSON.stringify({ action: 'core.local', parameters: { cmd: 'echo streamed-line' } }),
        });
        const { id } = (await created.json()) as { id: string };
        await waitFor(
          () => text.includes('"succeeded"') && text.includes('streamed-line'),
          'the stream to carry the run',
          15_000,
        );
        abort.abort();
        await reading;
        for (const block of text.split('\n\n')) {
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event && data?.includes(id)) seen.push(event);
        }
        expect(seen).toContain('st2.execution__create');
        expect(seen).toContain('st2.execution__update');
        expect(seen).toContain('st2.execution.output__create');
      });
    },
  );
}

async function adminToken(url: string): Promise<string> {
  const res = await fetch(`${url}/auth/v1/tokens`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`st2admin:${ADMIN_PASSWORD}`).toString('base64')}` },
  });
  return ((await res.json()) as { token: string }).token;
}
