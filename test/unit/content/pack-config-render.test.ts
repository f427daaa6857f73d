import { describe, expect, it } from 'vitest';
import { renderPackConfig } from '../../../src/content/subsystem.js';

function servicesWith(config: unknown) {
  return { store: { packs: { findOne: async () => ({ ref: 'mypack', config }) } } } as never;
}

describe('renderPackConfig', () => {
  it('renders dynamic values from the datastore, read once', async () => {
    let reads = 0;
    const values = await renderPackConfig(
      servicesWith({ values: { host: 'h1', token: '{{ st2kv.system.tok }}' }, dynamic_fields: ['token'] }),
      'mypack',
      async () => {
        reads++;
        return { system: { tok: 's3cret-token' }, user: {} };
      },
    );
    expect(values).toEqual({ host: 'h1', token: 's3cret-token' });
    expect(reads).toBe(1);
  });

  it('does not read the datastore (every live key) for a config without dynamic values', async () => {
    let reads = 0;
    const values = await renderPackConfig(servicesWith({ values: { host: 'h1' } }), 'mypack', async () => {
      reads++;
      return { system: {}, user: {} };
    });
    expect(values).toEqual({ host: 'h1' });
    expect(reads).toBe(0);
  });

  it('fails like st2 on a template naming something other than st2kv (the old {{ system.key }})', async () => {
    const render = () =>
      renderPackConfig(
        servicesWith({
          values: { token: '{{system.oauth_token}}', url: 'https://{{ st2kv.system.host }}' },
          dynamic_fields: ['token', 'url'],
        }),
        'mypack',
        async () => ({ system: { oauth_token: 'x', host: 'h' }, user: {} }),
      );
    await expect(render()).rejects.toMatchObject({
      code: 'CONFIG_RENDER',
      message: expect.stringMatching(
        /key "token" with value "\{\{system\.oauth_token\}\}" for pack "mypack" config: 'system' is undefined/,
      ),
    });
  });
});
