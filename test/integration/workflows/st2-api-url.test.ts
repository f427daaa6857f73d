// st2 builds a workflow's st2.api_url from `[auth] api_url` plus /v1 (st2's integration tests run
// with api_url = http://127.0.0.1:9101/ and expect http://127.0.0.1:9101/v1/executions/ID from
// examples.orquesta-st2-ctx). Squall does the same with auth.api_url, and answers that URL.
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSubsystem } from '../../../src/content/subsystem.js';
import { executionsSubsystem } from '../../../src/executions/subsystem.js';
import { kvSubsystem } from '../../../src/kv/index.js';
import { workflowsSubsystem } from '../../../src/workflows/engine/index.js';
import { startTestService, testSecretsSubsystem } from '../../support/test-service.js';
import { waitFor } from '../../support/wait.js';

const PACKS = path.join(import.meta.dirname, 'fixtures', 'packs');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("st2.api_url from auth.api_url (st2's [auth] api_url)", () => {
  let svc: Awaited<ReturnType<typeof startTestService>>;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    const executions = executionsSubsystem();
    svc = await startTestService({
      subsystems: [
        kvSubsystem(),
        testSecretsSubsystem(),
        contentSubsystem(),
        executions,
        workflowsSubsystem(executions.service, { sweepEveryMs: 1000 }),
      ],
      config: {
        'auth.enable': false,
        'packs.paths': [PACKS],
        'scheduler.process_every_ms': 200,
        'api.port': port,
        'auth.api_url': `http://127.0.0.1:${port}/`,
      },
    });
  });
  afterAll(async () => {
    await svc?.cleanup();
  });

  it('is <auth.api_url>/v1, as st2 gives it, and Squall answers the callback built from it', async () => {
    const post = await fetch(`${svc.url}/api/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'wftest.st2-ctx', parameters: {} }),
    });
    expect(post.status).toBe(201);
    const { id } = (await post.json()) as { id: string };
    const e = await waitFor(
      async () => {
        const r = (await (await fetch(`${svc.url}/api/v1/executions/${id}`)).json()) as {
          status: string;
          result: { output: { callback: string } };
        };
        return ['succeeded', 'failed'].includes(r.status) ? r : null;
      },
      `execution ${id} to finish`,
      20_000,
    );
    expect(e.status, JSON.stringify(e.result)).toBe('succeeded');
    expect(e.result).toEqual({ output: { callback: `http://127.0.0.1:${port}/v1/executions/${id}` } });
    // st2's API answers at /v1 itself (nginx adds /api); so does Squall, beside /api/v1.
    const back = await fetch(e.result.output.callback);
    expect(back.status).toBe(200);
    expect(((await back.json()) as { id: string }).id).toBe(id);
  });
});
