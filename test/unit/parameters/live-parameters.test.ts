/**
 * What an execution stores as its `parameters`, against st2's behaviour in
 * st2common/st2common/util/param.py: render_live_params keeps (in _cast_params_from) the parameters
 * the caller gave plus the non-immutable defaults that are Jinja templates, rendered; plain defaults
 * (the runner's too: sudo, kwarg_op, timeout, cwd, …) are applied at dispatch by render_final_params.
 * st2api's test_executions.py test_template_param asserts the rendered template default is shown.
 */
import { describe, expect, it } from 'vitest';
import {
  finalParameters,
  liveParameters,
  renderParameters,
  validateParameters,
} from '../../../src/executions/parameters.js';
import { getRunnerType, type ParameterSpec } from '../../../src/runners/index.js';

/** An action's specs merged over its runner's, as the content loader merges them. */
function merged(runner: string, action: Record<string, ParameterSpec>): Record<string, ParameterSpec> {
  const specs: Record<string, ParameterSpec> = {};
  const runnerSpecs = getRunnerType(runner)!.runner_parameters;
  for (const [name, spec] of Object.entries(runnerSpecs)) specs[name] = { ...spec };
  for (const [name, spec] of Object.entries(action)) specs[name] = { ...specs[name], ...spec };
  return specs;
}

function request(specs: Record<string, ParameterSpec>, provided: Record<string, unknown>) {
  const all = renderParameters(specs, provided, { action_context: { user: 'stanley' } });
  validateParameters(all, specs);
  return { all, ...liveParameters(specs, provided, all) };
}

describe('liveParameters: what an execution stores (st2 render_live_params)', () => {
  const specs = merged('local-shell-cmd', {
    greeting: { type: 'string', default: 'hello' },
    who: { type: 'string', default: '{{ action_context.user }}' },
    count: { type: 'integer', default: 3 },
    hosts: { type: 'array', default: ['{{ action_context.user }}.example.com'] },
    fixed: { type: 'string', default: 'pinned', immutable: true },
    fixedTemplate: { type: 'string', default: 'by {{ action_context.user }}', immutable: true },
    password: { type: 'string', default: 'hunter22', secret: true },
    note: { type: 'string' },
  });

  it('keeps what the caller gave and the rendered Jinja defaults, not plain defaults nor the runner’s', () => {
    const { live } = request(specs, { cmd: 'echo hi', count: '7' });
    expect(live).toEqual({
      cmd: 'echo hi',
      count: 7, // cast, as st2 casts what it keeps
      who: 'stanley',
      hosts: ['stanley.example.com'],
    });
    // Plain defaults of the action (greeting, secret password) and of the runner are not stored.
    for (const name of ['greeting', 'password', 'fixed', 'sudo', 'kwarg_op', 'timeout', 'cwd', 'env'])
      expect(live).not.toHaveProperty(name);
  });

  it('an immutable template default is not stored (st2 skips immutable ones) but is held for the run', () => {
    const { live, held } = request(specs, { cmd: 'true' });
    expect(live).not.toHaveProperty('fixedTemplate');
    expect(held).toEqual({ fixedTemplate: 'by stanley' });
  });

  it('a value given for a parameter that has a template default is stored as given, not the default', () => {
    const { live } = request(specs, { cmd: 'true', who: 'alice' });
    expect(live.who).toBe('alice');
  });

  it('a given value equal to a plain default is stored: the caller gave it', () => {
    const { live } = request(specs, { cmd: 'true', greeting: 'hello', timeout: 60 });
    expect(live).toMatchObject({ greeting: 'hello', timeout: 60 });
  });

  it('finalParameters gives the run every default again, in the same order as before', () => {
    const { all, live, held } = request(specs, { cmd: 'ls', note: 'n' });
    const final = finalParameters(specs, live, held);
    expect(final).toEqual(all);
    expect(Object.keys(final)).toEqual(Object.keys(all));
    expect(final).toMatchObject({ sudo: false, kwarg_op: '--', timeout: 60, password: 'hunter22' });
  });

  it('an action with no defaults stores exactly what was given', () => {
    const plain: Record<string, ParameterSpec> = { a: { type: 'string' }, b: { type: 'boolean' } };
    expect(request(plain, { a: 'x', b: false }).live).toEqual({ a: 'x', b: false });
  });

  it('a record that stored every default (before this change) runs with the same values', () => {
    const { all } = request(specs, { cmd: 'ls' });
    expect(finalParameters(specs, all)).toEqual(all);
  });
});
