import { describe, expect, it } from 'vitest';
import { buildForm, decodeFormContext, validateForm as validateWith } from '../../../src/chatops/forms.js';
import { castParameter, validateParameters } from '../../../src/executions/index.js';
import type { ActionRecord } from '../../../src/store/index.js';

const action = {
  ref: 'ops.deploy',
  name: 'deploy',
  pack: 'ops',
  runner_type: 'local-shell-cmd',
  parameters: {
    cmd: { type: 'string', default: 'echo {{ app }}', immutable: true },
    app: { type: 'string', required: true, description: 'What to deploy' },
    count: { type: 'integer', required: true, minimum: 1, default: 2 },
    stage: { type: 'string', enum: ['staging', 'prod'], default: 'staging' },
    dry: { type: 'boolean' },
    tags: { type: 'array' },
    password: { type: 'string', secret: true, default: 'hunter2' },
    owner: { type: 'string', default: '{{ st2kv.system.owner }}' },
  },
} as unknown as ActionRecord;

const validateForm = (a: ActionRecord, values: Record<string, string>) =>
  validateWith(a, values, { cast: castParameter, validate: validateParameters });

describe('forms from parameter schemas', () => {
  it('builds one field per fillable parameter, typed from the schema, secrets never filled in', () => {
    const form = buildForm(action, { a: 'ops.deploy', c: 'C1' });
    expect(
      form.fields.map((f) => [f.name, f.kind, f.required, f.initial ?? null, f.options ?? null]),
    ).toEqual([
      ['app', 'text', true, null, null],
      // A default fills an empty input, so the field is not required.
      ['count', 'text', false, '2', null],
      ['stage', 'select', false, 'staging', ['staging', 'prod']],
      ['dry', 'select', false, null, ['true', 'false']],
      ['tags', 'multiline', false, null, null],
      ['password', 'text', false, null, null],
      // A template default is computed at run time: not shown as if typed.
      ['owner', 'text', false, null, null],
    ]);
    expect(JSON.stringify(buildForm(action, { a: 'x', c: 'C' }, { password: 'typed' }))).not.toMatch(
      /hunter2|typed/,
    );
    expect(decodeFormContext(form.context)).toEqual({ a: 'ops.deploy', c: 'C1' });
  });

  it("validates with the executions' casting and schema: errors per field, empty inputs left to defaults", () => {
    expect(validateForm(action, { app: 'web', count: 'many', stage: 'qa', tags: '[1,' })).toEqual({
      errors: {
        count: expect.stringMatching(/count.*integer/),
        stage: expect.stringMatching(/stage/),
        tags: expect.stringMatching(/tags.*array/),
      },
    });
    expect(validateForm(action, { app: '', count: '0' })).toEqual({
      errors: { app: expect.stringMatching(/app/), count: expect.stringMatching(/count.*1/) },
    });
    expect(
      validateForm(action, { app: ' web ', count: ' 3 ', dry: 'true', tags: '["a"]', password: '' }),
    ).toEqual({
      parameters: { app: ' web ', count: 3, dry: true, tags: ['a'] },
    });
  });
});
