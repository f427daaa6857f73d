// What st2's wiring tests expect of a workflow's surroundings, on Squall started as `squall start`
// starts it (the default subsystems):
// - st2.api_url is `[auth] api_url` plus /v1: st2's tests run with api_url = http://127.0.0.1:9101/
//   and expect http://127.0.0.1:9101/v1/executions/ID from examples.orquesta-st2-ctx
//   (test_st2_runtime_context);
// - a task's action renders a parameter default from its pack config's schema default
//   (`{{ config_context.x }}`, test_config_context_renders).
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { startService, type RunningService } from '../../../src/service/index.js';
import { defaultSubsystems } from '../../../src/subsystems.js';
import { tempDir } from '../../support/servers.js';
import { waitFor } from '../../support/wait.js';

const PACKS = path.join(import.meta.dirname, 'fixtures', 'packs');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Execution {
  id: string;
  status: string;
  result: { output: Record<string, string> };
}

describe("a workflow's st2 surroundings, as st2's wiring tests expect them", () => {
  let running: RunningService;
  let port: number;
  const data = tempDir('squall-st2ctx-');

  const run = async (action: string): Promise<Execution> => {
    const post = await fetch(`${running.url}/api/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action, parameters: {} }),
    });
    expect(post.status).toBe(201);
    const { id } = (await post.json()) as { id: string };
    return waitFor(
      async () => {
        const e = (await (await fetch(`${running.url}/api/v1/executions/${id}`)).json()) as Execution;
        return ['succeeded', 'failed'].includes(e.status) ? e : null;
      },
      `execution ${id} to finish`,
      20_000,
    );
  };

  beforeAll(async () => {
    port = await freePort();
    const { config } = loadConfig({
      env: {},
      overrides: {
        data_dir: data.dir,
        'api.port': port,
        'auth.api_url': `http://127.0.0.1:${port}/`,
        'auth.enable': false,
        'packs.paths': [PACKS],
        'scheduler.process_every_ms': 200,
        'log.level': 'silent',
      },
    });
    running = await startService({ config, logger: silentLogger(), subsystems: defaultSubsystems(config) });
  });
  afterAll(async () => {
    await running?.stop();
    data.cleanup();
  });

  it('st2.api_url is <auth.api_url>/v1, as st2 gives it, and Squall answers the callback built from it', async () => {
    const e = await run('wftest.st2-ctx');
    expect(e.status, JSON.stringify(e.result)).toBe('succeeded');
    expect(e.result).toEqual({ output: { callback: `http://127.0.0.1:${port}/v1/executions/${e.id}` } });
    // st2's API answers at /v1 itself (nginx adds /api); so does Squall, beside /api/v1.
    const back = await fetch(e.result.output.callback);
    expect(back.status).toBe(200);
    expect(((await back.json()) as { id: string }).id).toBe(e.id);
  });

  it("renders a task action's parameter default from its pack config's schema default (config_context)", async () => {
    const e = await run('wftest.config-context');
    expect(e.status, JSON.stringify(e.result)).toBe('succeeded');
    expect(e.result).toEqual({ output: { context_value: 'Testing' } });
  });
});
