import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestApi } from '../../support/api.js';
import { STORE_TARGETS, describeWithServer, tempDir } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';
import { startInquiryApi } from './helpers.js';

type Json = Record<string, any>;
const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');

/** The real `squall` CLI, asynchronously (the API runs in this process), with scripted stdin. */
function squall(
  url: string,
  token: string,
  args: string[],
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = tempDir();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/run.ts', ...args], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: home.dir,
        SQUALL_API_URL: url,
        SQUALL_AUTH_TOKEN: token,
        COLUMNS: '200',
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(stdin);
    child.on('close', (code) => {
      home.cleanup();
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

for (const target of STORE_TARGETS) {
  describeWithServer(
    `squall inquiry against a running server (${target.kind})`,
    'MongoDB (SQUALL_TEST_MONGO_URL)',
    target.available,
    () => {
      let api: TestApi;
      let bob: string;

      const startForm = async () => {
        const res = await api.request('POST', '/api/v1/executions', { body: { action: 'inqtest.form' } });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        const wf = res.body.id as string;
        const ask = await waitFor(
          async () => {
            const kids = await api.services.store.executions.find({ parent: wf, status: 'pending' });
            return kids[0];
          },
          'the ask to be pending',
          20_000,
        );
        return { wf, id: ask.id };
      };

      beforeAll(async () => {
        api = await startInquiryApi(target);
        bob = await api.tokenFor('bob', ['admin']);
      }, 60_000);
      afterAll(async () => {
        await api?.stop();
      });

      it('lists and shows the pending inquiry', async () => {
        const { wf, id } = await startForm();
        const list = await squall(api.url, bob, ['inquiry', 'list', '--json']);
        expect(list.code, list.stderr).toBe(0);
        expect((JSON.parse(list.stdout) as Json[]).map((i) => [i.id, i.parent])).toContainEqual([id, wf]);
        const get = await squall(api.url, bob, ['inquiry', 'get', id]);
        expect(get.code, get.stderr).toBe(0);
        expect(get.stdout).toContain('How many hosts?');
      });

      it('respond prompts for each field, re-asks on a wrong answer, and resumes the workflow', async () => {
        const { wf, id } = await startForm();
        const out = await squall(api.url, bob, ['inquiry', 'respond', id], 'to test\nmany\n3\nmaybe\ny\n');
        expect(out.code, out.stderr + out.stdout).toBe(0);
        expect(out.stdout).toContain('Why?: ');
        expect(out.stdout).toContain('"many" is not an integer (field "count"); try again.');
        expect(out.stdout).toContain('"maybe" is not yes or no (field "urgent"); try again.');
        const e = await waitFor(
          async () => {
            const x = (await api.request('GET', `/api/v1/executions/${wf}`)).body as Json;
            return x.status === 'succeeded' ? x : null;
          },
          'the workflow to succeed',
          20_000,
        );
        expect(e.result.output).toEqual({ answer: { reason: 'to test', count: 3, urgent: true } });
        const audit = await api.services.store.audit.find({ kind: 'inquiry.decision', inquiry_id: id });
        expect(audit.map((a) => [a.actor, a.via, a.outcome])).toEqual([['bob', 'cli', 'accepted']]);
      });

      it('respond -r with a response the schema refuses exits non-zero with the schema error', async () => {
        const { id } = await startForm();
        const out = await squall(api.url, bob, [
          'inquiry',
          'respond',
          id,
          '-r',
          '{"reason": "x", "count": "two"}',
        ]);
        expect(out.code).not.toBe(0);
        expect(out.stderr).toContain('Response did not pass schema validation');
        expect(out.stderr).toContain('count must be integer');
      });
    },
  );
}
