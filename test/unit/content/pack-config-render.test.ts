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
});
