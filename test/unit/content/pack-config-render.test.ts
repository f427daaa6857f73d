import { describe, expect, it, vi } from 'vitest';
import { renderPackConfig } from '../../../src/content/subsystem.js';
import { findTemplateVariables } from '../../../src/workflows/expressions/jinja/index.js';

// Counts the parses of a config template (what names it reads), leaving the parse as it is.
vi.mock('../../../src/workflows/expressions/jinja/index.js', async (original) => {
  const jinja = await original<typeof import('../../../src/workflows/expressions/jinja/index.js')>();
  return { ...jinja, findTemplateVariables: vi.fn(jinja.findTemplateVariables) };
});

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

  it('parses a template once, and renders it on every run with the datastore as it is then', async () => {
    const services = servicesWith({
      values: { url: 'https://{{ st2kv.system.cached_host }}/api' },
      dynamic_fields: ['url'],
    });
    const parses = () =>
      vi.mocked(findTemplateVariables).mock.calls.filter(([t]) => t.includes('cached_host')).length;
    const first = await renderPackConfig(services, 'mypack', async () => ({
      system: { cached_host: 'one.example' },
      user: {},
    }));
    const second = await renderPackConfig(services, 'mypack', async () => ({
      system: { cached_host: 'two.example' },
      user: {},
    }));
    expect(first).toEqual({ url: 'https://one.example/api' });
    expect(second).toEqual({ url: 'https://two.example/api' });
    expect(parses()).toBe(1);
  });
});
