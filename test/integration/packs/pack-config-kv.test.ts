import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allSubsystems, finishedExecution, startTestApi, type TestApi } from '../../support/api.js';
import { writeTestPack } from '../../support/packs.js';
import { describeOnEachStore, freshMongoUrl, tempDir } from '../../support/servers.js';

/**
 * A pack config value `{{ st2kv.system.x }}` is rendered for every execution with the datastore as
 * it is then: the template's parse is kept between runs, its render is not.
 */
describeOnEachStore('a pack config value read from the datastore', (target) => {
  const packs = tempDir();
  const configs = tempDir();
  let api: TestApi;

  beforeAll(async () => {
    writeTestPack(packs.dir, 'kvconfig', {
      'config.schema.yaml': 'greeting: {type: string}\n',
      'actions/greet.yaml': [
        'name: greet',
        'runner_type: local-shell-cmd',
        'parameters:',
        '  cmd:',
        '    type: string',
        '    default: "echo {{ config_context.greeting }}"',
        '',
      ].join('\n'),
    });
    writeFileSync(
      path.join(configs.dir, 'kvconfig.yaml'),
      'greeting: "{{ st2kv.system.kvconfig_greeting }}"\n',
    );
    api = await startTestApi({
      subsystems: await allSubsystems(),
      mongoUrl: target.kind === 'mongo' ? freshMongoUrl() : undefined,
      overrides: { 'packs.paths': [packs.dir], 'packs.config_dir': configs.dir },
    });
  }, 60_000);
  afterAll(async () => {
    await api?.stop();
    packs.cleanup();
    configs.cleanup();
  });

  const greet = async (value: string) => {
    const put = await api.request('PUT', '/api/v1/keys/kvconfig_greeting', { body: { value } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const run = await api.request('POST', '/api/v1/executions', { body: { action: 'kvconfig.greet' } });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    const done = await finishedExecution(api, run.body.id);
    expect(done.status, JSON.stringify(done.result)).toBe('succeeded');
    return done.result.stdout;
  };

  it('each run sees the value the key holds when it runs', async () => {
    expect(await greet('hello')).toBe('hello');
    expect(await greet('good evening')).toBe('good evening');
  });
});
