import { describe, expect, it } from 'vitest';
import { validateAliasBody } from '../../../src/content/index.js';

/** What `st2 action-alias create FILE` posts: the JSON of the alias YAML file. */
const valid = { name: 'greet', pack: 'ops', action_ref: 'core.echo', formats: ['greet {{message}}'] };

function problems(body: unknown): Array<{ field: string; message: string }> {
  try {
    validateAliasBody(body, 'action alias');
  } catch (err) {
    return (err as { context: { errors?: Array<{ field: string; message: string }> } }).context.errors ?? [];
  }
  return [];
}

describe('an alias posted to the API is checked as alias files are', () => {
  it('becomes the record the loader would make, with st2 defaults and no pack file', () => {
    expect(validateAliasBody({ ...valid, ack: { format: 'on it' }, extra: null }, 'x')).toEqual({
      ...valid,
      ref: 'ops.greet',
      uid: 'action_alias:ops:greet',
      metadata_file: '',
      pack_dir: '',
      enabled: true,
      ack: { format: 'on it' },
      extra: {},
      immutable_parameters: {},
    });
  });

  it('names each field that is wrong, and requires the pack as st2 does', () => {
    expect(problems({ ...valid, pack: undefined, formats: 'greet', colour: 'red' })).toEqual(
      expect.arrayContaining([
        { field: 'formats', message: expect.stringMatching(/^must be array/) },
        { field: 'colour', message: expect.stringMatching(/^unknown field "colour"/) },
        { field: 'pack', message: 'required field "pack" is missing' },
      ]),
    );
    expect(problems({ ...valid, pack: '' })).toEqual([
      { field: 'pack', message: 'must name a pack, not be empty' },
    ]);
    expect(problems({ ...valid, name: 'no spaces please' })[0].field).toBe('name');
    expect(() => validateAliasBody([valid], 'action alias')).toThrow(/expected an action alias object/);
  });

  it('takes back what GET answered (st2 action-alias get -j, edited): computed fields are ignored', () => {
    const got = { ...valid, id: '0123456789abcdef01234567', ref: 'ops.greet', uid: 'action_alias:ops:greet' };
    const sent = { ...got, metadata_file: 'aliases/greet.yaml', pack_dir: '/packs/ops' };
    expect(validateAliasBody(sent, 'x')).toMatchObject({ ref: 'ops.greet', metadata_file: '', pack_dir: '' });
  });
});
