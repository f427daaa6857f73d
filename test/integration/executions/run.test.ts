import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import {
  STORE_TARGETS,
  describeWithServer,
  embeddedStoreFiles,
  freshMongoUrl,
} from '../../support/servers.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { waitFor } from '../../support/wait.js';
import { apiClient } from '../../support/api-client.js';
import { writePack } from '../../unit/content/helpers.js';

type Json = Record<string, any>;

// Secrets inside an object and a list (aws_boto3's `credentials.SecretAccessKey`): the command
// prints only their lengths, so its output shows they reached the action.
const CREDS_ACTION = `name: creds
runner_type: local-shell-cmd
parameters:
  credentials:
    type: object
    properties:
      user: {type: string}
      password: {type: string, secret: true}
  tokens:
    type: array
    items: {type: string, secret: true}
  keys:
    type: object
    additionalProperties: {type: string, secret: true}
  cmd:
    default: 'printf "%s/%s" "{{ credentials.password }}" "{{ tokens[1] }}" | wc -c; echo user={{ credentials.user }}'
`;

// A secret object (secret whole): its command prints a string inside it.
const VAULT_ACTION = `name: vault
runner_type: local-shell-cmd
parameters:
  vault: {type: object, secret: true}
  cmd:
    default: 'echo key={{ vault.key }}'
`;

// Plain, Jinja and immutable Jinja defaults, and an action default for the runner's cwd.
const ARGS_ACTION = `name: args
runner_type: local-shell-script
entry_point: args.sh
parameters:
  greeting: {type: string, default: hello}
  who: {type: string, default: '{{ action_context.user }}'}
  stamp: {type: string, default: 'by {{ action_context.user }}', immutable: true}
  note: {type: string}
  cwd: {default: /tmp}
`;

for (const target of STORE_TARGETS) {
  describeWithServer(
    `executions through the API (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let svc: Awaited<ReturnType<typeof startTestService>>;
      const { api, run, finished } = apiClient(() => svc.url);

      // A pack with an action of a runner st2 has and Squall does not run (st2's examples has three).
      let winrmPack = '';
      let argsPack = '';

      beforeAll(async () => {
        winrmPack = await writePack(
          { 'actions/dir.yaml': 'name: dir\nrunner_type: winrm-cmd\nparameters:\n  cmd: {default: dir}\n' },
          'win',
        );
        argsPack = await writePack(
          {
            'actions/args.yaml': ARGS_ACTION,
            'actions/args.sh': '#!/bin/sh\npwd\necho "$@"\n',
            'actions/creds.yaml': CREDS_ACTION,
            'actions/vault.yaml': VAULT_ACTION,
          },
          'stored',
        );
        svc = await startTestService({
          subsystems: [testSecretsSubsystem(), contentSubsystem(), executionsSubsystem()],
          mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
          config: { 'auth.enable': false, 'packs.paths': [path.dirname(winrmPack), path.dirname(argsPack)] },
        });
      });
      afterAll(async () => {
        await svc?.cleanup();
        rmSync(path.dirname(winrmPack), { recursive: true, force: true });
        rmSync(path.dirname(argsPack), { recursive: true, force: true });
      });

      it('lists an action whose runner Squall does not run, and running it fails naming the runner', async () => {
        const listed = await api('GET', '/api/v1/actions?pack=win');
        expect(listed.body!.map((a: Json) => [a.ref, a.runner_type])).toEqual([['win.dir', 'winrm-cmd']]);
        const e = await finished(await run('win.dir', { host: 'w1', username: 'u', password: 'secret-pw' }));
        expect(e.status).toBe('failed');
        expect(e.result.error).toBe(
          'runner "winrm-cmd" is not supported by Squall: action "win.dir" cannot run here',
        );
      });

      it('runs core.local: echo hi succeeds with stdout "hi", with st2 fields and a status log', async () => {
        const id = await run('core.local', { cmd: 'echo hi' });
        const e = await finished(id);
        expect(e.status).toBe('succeeded');
        expect(e.result).toMatchObject({ stdout: 'hi', return_code: 0, succeeded: true, failed: false });
        expect(e.action.ref).toBe('core.local');
        expect(e.runner.name).toBe('local-shell-cmd');
        expect(e.log.map((l: Json) => l.status)).toEqual(['requested', 'scheduled', 'running', 'succeeded']);
        expect(e.end_timestamp).toBeTruthy();
        expect(e.elapsed_seconds).toBeGreaterThanOrEqual(0);
        // st2's link to it in the web UI (_get_web_url_for_execution).
        expect(e.web_url).toBe(`${svc.url}/#/history/${id}/general`);
      });

      it('fails core.local with exit 3 and return_code 3', async () => {
        const e = await finished(await run('core.local', { cmd: 'exit 3' }));
        expect(e.status).toBe('failed');
        expect(e.result.return_code).toBe(3);
      });

      it('times out a long command and ends in status timeout', async () => {
        const e = await finished(await run('core.local', { cmd: 'sleep 30', timeout: 1 }), 10_000);
        expect(e.status).toBe('timeout');
      });

      it('stores output lines and serves them from /output', async () => {
        const id = await run('core.local', { cmd: 'echo one; echo two >&2; echo three' });
        await finished(id);
        const out = await api('GET', `/api/v1/executions/${id}/output`);
        expect(out.text).toContain('one');
        expect(out.text).toContain('three');
        const stderr = await api('GET', `/api/v1/executions/${id}/output?output_type=stderr`);
        expect(stderr.text.trim()).toBe('two');
      });

      it('cancels a running execution, ending in canceled', async () => {
        const id = await run('core.local', { cmd: 'sleep 20', timeout: 60 });
        await waitFor(
          async () => (await api('GET', `/api/v1/executions/${id}`)).body!.status === 'running',
          'running',
        );
        const res = await api('DELETE', `/api/v1/executions/${id}`);
        expect(res.status).toBe(200);
        const e = await finished(id, 10_000);
        expect(e.status).toBe('canceled');
      });

      // st2 keeps the notify an execution was asked with on its liveaction (LIVEACTION_ATTRIBUTES in
      // st2common/services/executions.py); an execution has no notify field of its own.
      it('shows the notify it was asked with under liveaction, which include_attributes selects', async () => {
        const notify = { on_complete: { routes: ['ops'], message: 'done' } };
        const res = await api('POST', '/api/v1/executions', {
          action: 'core.local',
          parameters: { cmd: 'true' },
          notify,
        });
        expect(res.status, res.text).toBe(201);
        expect(res.body!.liveaction.notify).toEqual(notify);
        expect(res.body).not.toHaveProperty('notify');
        const id = res.body!.id as string;
        const e = await finished(id);
        expect(e.liveaction).toMatchObject({ id, action: 'core.local', notify });
        expect(e).not.toHaveProperty('notify');

        const only = await api('GET', `/api/v1/executions/${id}?include_attributes=liveaction.notify`);
        expect(only.status, only.text).toBe(200);
        expect(only.body).toMatchObject({ id, liveaction: { notify } });
        expect(only.body).not.toHaveProperty('status');
        const listed = await api(
          'GET',
          `/api/v1/executions?action=core.local&include_attributes=id,liveaction`,
        );
        expect(listed.body!.find((x: Json) => x.id === id).liveaction.notify).toEqual(notify);
        const refused = await api('GET', `/api/v1/executions/${id}?include_attributes=notify`);
        expect(refused.status).toBe(400);
        expect(refused.body!.faultstring).toBe('Invalid or unsupported include attribute specified: notify');

        // Without one, the liveaction has none.
        const plain = await finished(await run('core.local', { cmd: 'true' }));
        expect(plain.liveaction).not.toHaveProperty('notify');
      });

      it('re-runs an execution with its parameters, or overrides', async () => {
        const id = await run('core.local', { cmd: 'echo first' });
        await finished(id);
        const again = await api('POST', `/api/v1/executions/${id}/re_run`, {
          parameters: { cmd: 'echo second' },
        });
        expect(again.status, again.text).toBe(201);
        const e = await finished(again.body!.id);
        expect(e.result.stdout).toBe('second');
        expect(e.context.re_run).toEqual({ ref: id });
      });

      // st2common/util/param.py: render_live_params stores the given parameters and the rendered
      // Jinja defaults; plain defaults, the runner's included, are applied at the run (render_final_params).
      it('core.local shows only the parameters given, and still runs', async () => {
        const id = await run('core.local', { cmd: 'echo hi' });
        const e = await finished(id);
        expect(e.status).toBe('succeeded');
        expect(e.result.stdout).toBe('hi');
        expect(e.parameters).toEqual({ cmd: 'echo hi' });
        expect(e.liveaction.parameters).toEqual({ cmd: 'echo hi' });
        // A given runner parameter is the caller's: it is stored, and it is used.
        const timedOut = await finished(await run('core.local', { cmd: 'sleep 30', timeout: 1 }));
        expect(timedOut.status).toBe('timeout');
        expect(timedOut.parameters).toEqual({ cmd: 'sleep 30', timeout: 1 });
      });

      it('a script action shows the given and Jinja-default parameters; its run gets every default', async () => {
        const e = await finished(await run('stored.args', { note: 'n1' }));
        expect(e.status, JSON.stringify(e.result)).toBe('succeeded');
        const user = e.context.user;
        expect(e.parameters).toEqual({ note: 'n1', who: user });
        // The script saw the plain default (greeting), the immutable template one (stamp), and the
        // action's default for the runner's cwd.
        const [pwd, args] = String(e.result.stdout).split('\n');
        expect(pwd).toBe('/tmp');
        expect(args).toContain('--greeting=hello');
        expect(args).toContain(`--who=${user}`);
        expect(args).toContain(`--stamp=by ${user}`);
        expect(args).toContain('--note=n1');
      });

      it('a re-run passes the stored parameters again and the run applies the defaults anew', async () => {
        const first = await finished(await run('stored.args', { greeting: 'hey' }));
        const again = await api('POST', `/api/v1/executions/${first.id}/re_run`, {
          parameters: { note: 'n2' },
        });
        expect(again.status, again.text).toBe(201);
        const e = await finished(again.body!.id);
        expect(e.status).toBe('succeeded');
        expect(e.parameters).toEqual({ greeting: 'hey', who: first.parameters.who, note: 'n2' });
        expect(String(e.result.stdout)).toContain(`--stamp=by ${e.context.user}`);
        expect(String(e.result.stdout)).toContain('--greeting=hey');
      });
      it('lists executions newest first with X-Total-Count, filtered by action and status', async () => {
        const res = await api('GET', '/api/v1/executions?action=core.local&status=succeeded&limit=2');
        expect(res.status).toBe(200);
        expect(res.body).toHaveLength(2);
        expect(Number(res.headers.get('x-total-count'))).toBeGreaterThanOrEqual(2);
        expect(res.body![0].start_timestamp >= res.body![1].start_timestamp).toBe(true);
      });

      it("an admin's limit=-1 (or a limit above it) answers at most api.max_admin_page_size, saying so in X-Limit", async () => {
        for (let i = 0; i < 3; i++) await finished(await run('core.local', { cmd: 'true' }));
        const api_ = svc.services.config.api;
        const before = api_.max_admin_page_size;
        expect(before).toBe(10_000);
        api_.max_admin_page_size = 2;
        try {
          const all = await api('GET', '/api/v1/executions?limit=-1');
          expect(all.status).toBe(200);
          expect(all.body).toHaveLength(2);
          expect(all.headers.get('x-limit')).toBe('2');
          const total = Number(all.headers.get('x-total-count'));
          expect(total).toBeGreaterThan(2);
          const big = await api('GET', '/api/v1/executions?limit=500');
          expect(big.body).toHaveLength(2);
          expect(big.headers.get('x-limit')).toBe('2');
          // offset pages on past the cap.
          const next = await api('GET', '/api/v1/executions?limit=-1&offset=1');
          expect(next.body![0].id).toBe(all.body![1].id);
          api_.max_admin_page_size = 0;
          const uncapped = await api('GET', '/api/v1/executions?limit=-1');
          expect(uncapped.body).toHaveLength(total);
          expect(uncapped.headers.get('x-limit')).toBeNull();
        } finally {
          api_.max_admin_page_size = before;
        }
      });

      it('answers 404 for an unknown action and 400 naming a bad parameter', async () => {
        const missing = await api('POST', '/api/v1/executions', { action: 'core.nope', parameters: {} });
        expect(missing.status).toBe(404);
        expect(missing.body!.faultstring).toContain('core.nope');
        const bad = await api('POST', '/api/v1/executions', {
          action: 'core.local',
          parameters: { cmd: 'true', timeout: 'soon' },
        });
        expect(bad.status).toBe(400);
        expect(bad.body!.faultstring).toMatch(/^core\.local: Parameter "timeout" expects an integer/);
        const unknown = await api('POST', '/api/v1/executions', {
          action: 'core.local',
          parameters: { cmd: 'true', bogus: 1 },
        });
        expect(unknown.status).toBe(400);
        expect(unknown.body!.faultstring).toMatch(
          /^core\.local: Additional properties are not allowed \('bogus' was unexpected\)/,
        );
        const invalid = await api('POST', '/api/v1/executions', {
          action: 'core.http',
          parameters: { url: 'http://127.0.0.1:9/', method: 'FETCH' },
        });
        expect(invalid.status).toBe(400);
        expect(invalid.body!.faultstring).toMatch(/^core\.http: Parameter "method": value is not one of/);
        const noCmd = await api('POST', '/api/v1/executions', { action: 'core.local', parameters: {} });
        expect(noCmd.status).toBe(400);
        expect(noCmd.body!.faultstring).toBe("core.local: 'cmd' is a required property");
      });

      it('keeps a secret parameter out of API responses, output and the raw stored records', async () => {
        const secret = `pw-${Date.now()}-zebra`;
        const id = await run('core.local', {
          cmd: 'echo "$SUDO_PW" | wc -c; echo "token={{ sudo_password }}"',
          sudo_password: secret,
        });
        const e = await finished(id);
        expect(e.parameters.sudo_password).toBe('********');
        expect(JSON.stringify(e)).not.toContain(secret);
        const out = await api('GET', `/api/v1/executions/${id}/output`);
        expect(out.text).not.toContain(secret);
        const list = await api('GET', '/api/v1/executions?limit=5');
        expect(list.text).not.toContain(secret);
        const raw = await svc.services.store.executions.get(id);
        expect(JSON.stringify(raw)).not.toContain(secret);
        if (target.kind === 'embedded') {
          const files = embeddedStoreFiles(svc.config.data_dir);
          expect(files.length).toBeGreaterThan(0);
          for (const f of files) expect(readFileSync(f, 'latin1')).not.toContain(secret);
        }
      });

      it('masks secrets inside an object or a list parameter where they are, as st2 does, and runs with them', async () => {
        const password = `pw-${Date.now()}-okapi`;
        const tokens = [`tk-${Date.now()}-first`, `tk-${Date.now()}-second`];
        const keys = { github: `gh-${Date.now()}-tapir` };
        const id = await run('stored.creds', { credentials: { user: 'deployer', password }, tokens, keys });
        const e = await finished(id);
        expect(e.status, JSON.stringify(e.result)).toBe('succeeded');
        expect(e.result.stdout.trim().split('\n')).toEqual([
          String(password.length + 1 + tokens[1].length),
          'user=deployer',
        ]);
        expect(e.parameters.credentials).toEqual({ user: 'deployer', password: '********' });
        expect(e.parameters.tokens).toEqual(['********', '********']);
        // Under additionalProperties: st2 would show it; masked (and sealed) here.
        expect(e.parameters.keys).toEqual({ github: '********' });
        expect(e.liveaction.parameters.credentials.password).toBe('********');
        const leaks = (text: string) => [password, ...tokens, keys.github].filter((s) => text.includes(s));
        expect(leaks(JSON.stringify(e))).toEqual([]);
        expect(leaks((await api('GET', '/api/v1/executions?limit=5')).text)).toEqual([]);
        expect(leaks(JSON.stringify(await svc.services.store.executions.get(id)))).toEqual([]);
        // A re-run keeps them secret and runs with the same values.
        const again = await api('POST', `/api/v1/executions/${id}/re_run`, {});
        expect(again.status, again.text).toBe(201);
        const rerun = await finished(again.body!.id);
        expect(rerun.result.stdout).toBe(e.result.stdout);
        expect(rerun.parameters.credentials).toEqual({ user: 'deployer', password: '********' });
        expect(leaks(JSON.stringify(await svc.services.store.executions.get(rerun.id)))).toEqual([]);
      });

      it('masks a string inside a secret object wherever it shows: in its output and in a parameter rendered from it', async () => {
        const key = `vk-${Date.now()}-lynx`;
        const id = await run('stored.vault', { vault: { key, region: 'north' } });
        const e = await finished(id);
        expect(e.status, JSON.stringify(e.result)).toBe('succeeded');
        expect(e.result.stdout.trim()).toBe('key=********');
        expect(e.parameters.vault).toBe('********');
        expect(e.parameters.cmd).toBe('********');
        expect(JSON.stringify(e)).not.toContain(key);
        expect((await api('GET', `/api/v1/executions/${id}/output`)).text).not.toContain(key);
        expect(JSON.stringify(await svc.services.store.executions.get(id))).not.toContain(key);
      });
    },
  );
}
