import { describe, expect, it } from 'vitest';
import { SquallError } from '../../../src/errors.js';
import { castParameters, renderParameters, validateParameters } from '../../../src/executions/parameters.js';
import type { ParameterSpec } from '../../../src/runners/catalog.js';
import { NONE_MAGIC_VALUE } from '../../../src/workflows/expressions/jinja/index.js';

function thrown(fn: () => unknown): SquallError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SquallError) return err;
    throw err;
  }
  throw new Error('expected a SquallError');
}

describe('renderParameters', () => {
  it('a default that does not match its type (registered, as st2 does) is refused only when the run leaves it unset', () => {
    // slack's rtm.connect: `type: boolean, default: ""`.
    const specs: Record<string, ParameterSpec> = { presence: { type: 'boolean', default: '' } };
    const err = thrown(() => validateParameters(renderParameters(specs, {}, {}), specs));
    expect(err.code).toBe('PARAM_TYPE');
    expect(err.message).toMatch(/presence/);
    expect(() => validateParameters(renderParameters(specs, { presence: true }, {}), specs)).not.toThrow();
  });

  it('applies defaults and lets provided values win', () => {
    const specs: Record<string, ParameterSpec> = {
      a: { type: 'string', default: 'dflt' },
      b: { type: 'integer', default: 5 },
      c: { type: 'string' },
    };
    expect(renderParameters(specs, { a: 'given' }, {})).toEqual({ a: 'given', b: 5 });
  });

  it('renders Jinja in values and defaults against the context', () => {
    const specs: Record<string, ParameterSpec> = {
      user: { type: 'string', default: '{{ action_context.user }}' },
      host: { type: 'string' },
      region: { type: 'string', default: '{{ st2kv.system.region }}' },
    };
    const out = renderParameters(
      specs,
      { host: '{{ trigger.host }}.example.com' },
      {
        action_context: { user: 'stanley' },
        trigger: { host: 'web1' },
        st2kv: { system: { region: 'eu' } },
      },
    );
    expect(out).toEqual({ user: 'stanley', host: 'web1.example.com', region: 'eu' });
  });

  it('resolves parameters that reference each other in dependency order', () => {
    const specs: Record<string, ParameterSpec> = {
      greeting: { type: 'string', default: '{{ salutation }}, {{ name }}!' },
      salutation: { type: 'string', default: 'Hello' },
      name: { type: 'string', default: '{{ first }} {{ last }}' },
      first: { type: 'string' },
      last: { type: 'string', default: 'Storm' },
    };
    expect(renderParameters(specs, { first: 'Stack' }, {})).toEqual({
      greeting: 'Hello, Stack Storm!',
      salutation: 'Hello',
      name: 'Stack Storm',
      first: 'Stack',
      last: 'Storm',
    });
  });

  it('throws PARAM_CYCLE with "Cyclic dependency found" and the names involved', () => {
    const specs: Record<string, ParameterSpec> = {
      a: { type: 'string', default: '{{ b }}' },
      b: { type: 'string', default: '{{ c }}' },
      c: { type: 'string', default: '{{ a }}' },
      d: { type: 'string', default: 'x' },
    };
    const err = thrown(() => renderParameters(specs, {}, {}));
    expect(err.code).toBe('PARAM_CYCLE');
    expect(err.message).toContain('Cyclic dependency found');
    expect([...(err.context.parameters as string[])].sort()).toEqual(['a', 'b', 'c']);
    expect(err.message).toMatch(/a, b, c|b, c, a|c, a, b/);
  });

  it('treats a self-reference as a cycle', () => {
    expect(thrown(() => renderParameters({ a: { type: 'string' } }, { a: '{{ a }}x' }, {})).code).toBe(
      'PARAM_CYCLE',
    );
  });

  it('rejects caller-supplied values for immutable parameters, naming them', () => {
    const specs: Record<string, ParameterSpec> = {
      dir: { type: 'string', default: '/tmp', immutable: true },
      cmd: { type: 'string' },
    };
    const err = thrown(() => renderParameters(specs, { dir: '/etc', cmd: 'ls' }, {}));
    expect(err.code).toBe('PARAM_IMMUTABLE');
    expect(err.message).toContain('"dir"');
    expect(renderParameters(specs, { cmd: 'ls' }, {})).toEqual({ dir: '/tmp', cmd: 'ls' });
  });

  it('a required parameter whose default is null may be None, as st2 allows (packs.get_pack_dependencies)', () => {
    const packsStatus: Record<string, ParameterSpec> = {
      packs_status: { type: 'object', required: true, default: null },
      nested: { type: 'integer', required: true, default: 3 },
    };
    const unset = renderParameters(packsStatus, {}, {});
    expect(unset).toEqual({ packs_status: null, nested: 3 });
    expect(() => validateParameters(unset, packsStatus)).not.toThrow();
    const given = renderParameters(packsStatus, { packs_status: { csv: 'Success.' } }, {});
    expect(() => validateParameters(given, packsStatus)).not.toThrow();
    expect(given.packs_status).toEqual({ csv: 'Success.' });
    // Still typed: a value that is not an object is refused.
    expect(thrown(() => validateParameters({ packs_status: 'x', nested: 3 }, packsStatus)).code).toBe(
      'PARAM_INVALID',
    );
    // A required parameter without a default still needs a value.
    const noDefault = { hosts: { type: 'string', required: true } } as Record<string, ParameterSpec>;
    expect(thrown(() => renderParameters(noDefault, {}, {})).code).toBe('PARAM_REQUIRED');
  });

  it('throws PARAM_REQUIRED for missing required parameters', () => {
    const err = thrown(() =>
      renderParameters(
        { hosts: { type: 'string', required: true }, cmd: { type: 'string' } },
        { cmd: 'ls' },
        {},
      ),
    );
    expect(err.code).toBe('PARAM_REQUIRED');
    expect(err.message).toBe("'hosts' is a required property");
  });

  it('casts rendered strings to the declared types', () => {
    const specs: Record<string, ParameterSpec> = {
      count: { type: 'integer' },
      ratio: { type: 'number' },
      enabled: { type: 'boolean' },
      tags: { type: 'array' },
      meta: { type: 'object' },
    };
    const ctx = {
      trigger: { count: 3, ratio: 0.5, on: true, tags: ['a', 'b'], meta: { k: 'v', ok: false, none: null } },
    };
    const out = renderParameters(
      specs,
      {
        count: '{{ trigger.count }}',
        ratio: '{{ trigger.ratio }}',
        enabled: '{{ trigger.on }}',
        tags: '{{ trigger.tags }}',
        meta: '{{ trigger.meta }}',
      },
      ctx,
    );
    expect(out).toEqual({
      count: 3,
      ratio: 0.5,
      enabled: true,
      tags: ['a', 'b'],
      meta: { k: 'v', ok: false, none: null },
    });
  });

  it('keeps native types for whole-expression strings nested in arrays and objects', () => {
    const out = renderParameters(
      { body: { type: 'object' } },
      { body: { ids: '{{ trigger.ids }}', label: 'n={{ trigger.ids | length }}' } },
      { trigger: { ids: [1, 2] } },
    );
    expect(out).toEqual({ body: { ids: [1, 2], label: 'n=2' } });
  });

  it('turns the use_none marker into null', () => {
    expect(
      renderParameters(
        { v: { type: 'string' } },
        { v: '{{ trigger.x | use_none }}' },
        { trigger: { x: null } },
      ),
    ).toEqual({ v: null });
  });

  it('names the parameter when rendering fails', () => {
    const err = thrown(() =>
      renderParameters({ msg: { type: 'string' } }, { msg: '{{ x | nope_filter }}' }, {}),
    );
    expect(err.code).toBe('PARAM_RENDER');
    expect(err.message).toContain('parameter "msg"');
  });
});

describe('renderParameters: a template that fails on a secret parameter', () => {
  it("does not quote the secret a filter's error quotes", () => {
    const specs: Record<string, ParameterSpec> = {
      pw: { type: 'string', secret: true },
      creds: { type: 'object', properties: { key: { type: 'string', secret: true } } },
      cmd: { type: 'string' },
    };
    for (const [given, cmd] of [
      [{ pw: 'hunter2-not-json' }, '{{ pw | from_json_string }}'],
      [{ creds: { key: 'hunter2-not-json' } }, '{{ creds.key | from_json_string }}'],
    ] as const) {
      const err = thrown(() => renderParameters(specs, { ...given, cmd }, {}));
      expect(err.code).toBe('PARAM_RENDER');
      expect(err.message).toContain('from_json_string');
      expect(JSON.stringify(err)).not.toContain('hunter2');
    }
  });
});

describe('renderParameters: the cost of one request is bounded (issue 18 item 2)', () => {
  const ctx = { action_context: {}, config_context: {}, st2kv: { system: {}, user: {} } };

  it('refuses more parameters than the limit, naming it, before rendering any', () => {
    let renders = 0;
    const context = { ...ctx, count: () => String(++renders) };
    const provided: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) provided[`p${i}`] = '{{ count() }}';
    expect(() => renderParameters({}, provided, context)).toThrow(
      /1000 parameters were given; at most 256 are accepted in one request/,
    );
    expect(renders).toBe(0);
  });

  it('refuses unknown parameters before rendering any', () => {
    let renders = 0;
    const context = { ...ctx, count: () => String(++renders) };
    const specs: Record<string, ParameterSpec> = { known: { type: 'string' } };
    let error: SquallError | undefined;
    try {
      renderParameters(specs, { known: '{{ count() }}', other: '{{ count() }}', third: 'x' }, context);
    } catch (err) {
      error = err as SquallError;
    }
    expect(error?.code).toBe('PARAM_UNKNOWN');
    expect(error?.message).toContain('"other" is not a parameter of this action (and 1 more unknown)');
    expect(renders).toBe(0);
  });

  it('gives each template the context and only the parameters it references, so the work stays linear', () => {
    const sizes: number[] = [];
    function probe(this: { ctx: Record<string, unknown> }): string {
      sizes.push(Object.keys(this.ctx).length);
      return 'x';
    }
    const specs: Record<string, ParameterSpec> = {};
    const provided: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) {
      specs[`p${i}`] = { type: 'string' };
      provided[`p${i}`] = i === 0 ? '{{ probe() }}' : `{{ probe() }}{{ p${i - 1} | length }}`;
    }
    const out = renderParameters(specs, provided, { ...ctx, probe });
    expect(out.p199).toBe('x2');
    expect(sizes).toHaveLength(200);
    // Before, the i-th template saw all i parameters rendered before it: quadratic in total.
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });
});

describe('castParameters', () => {
  const specs: Record<string, ParameterSpec> = {
    arr: { type: 'array' },
    obj: { type: 'object' },
    flag: { type: 'boolean' },
    n: { type: 'integer' },
    x: { type: 'number' },
    s: { type: 'string' },
    pw: { type: 'integer', secret: true },
  };

  it('reads arrays and objects as JSON or Python literals', () => {
    expect(castParameters({ arr: '[1, "a"]', obj: '{"a": {"b": null}}' }, specs)).toEqual({
      arr: [1, 'a'],
      obj: { a: { b: null } },
    });
    expect(
      castParameters({ arr: "['a', True, None, (1, 2)]", obj: "{'k': 'it\\'s', 'n': -1.5}" }, specs),
    ).toEqual({ arr: ['a', true, null, [1, 2]], obj: { k: "it's", n: -1.5 } });
    expect(castParameters({ arr: [1] }, specs)).toEqual({ arr: [1] });
  });

  it('reads booleans case-insensitively', () => {
    expect(castParameters({ flag: 'True' }, specs)).toEqual({ flag: true });
    expect(castParameters({ flag: 'false' }, specs)).toEqual({ flag: false });
    expect(castParameters({ flag: true }, specs)).toEqual({ flag: true });
  });

  it('reads integers and numbers', () => {
    expect(castParameters({ n: '42', x: '2.5' }, specs)).toEqual({ n: 42, x: 2.5 });
    expect(castParameters({ n: 7.9, x: '3' }, specs)).toEqual({ n: 7, x: 3 });
  });

  it('maps the None marker to null for every type and leaves null alone', () => {
    expect(
      castParameters({ arr: NONE_MAGIC_VALUE, n: NONE_MAGIC_VALUE, s: NONE_MAGIC_VALUE, flag: null }, specs),
    ).toEqual({ arr: null, n: null, s: null, flag: null });
  });

  it.each([
    ['arr', 'not [a list', 'an array'],
    ['obj', '{broken', 'an object'],
    ['flag', 'yes', 'a boolean'],
    ['n', '4.2', 'an integer'],
    ['n', 'ten', 'an integer'],
    ['x', 'abc', 'a number'],
    ['s', 5, 'a string'],
  ])('rejects %s = %j with PARAM_TYPE naming the parameter and type', (name, value, expected) => {
    const err = thrown(() => castParameters({ [name]: value }, specs));
    expect(err.code).toBe('PARAM_TYPE');
    expect(err.message).toContain(`Parameter "${name}"`);
    expect(err.message).toContain(expected);
  });

  it('does not echo the value of a secret parameter in errors', () => {
    const err = thrown(() => castParameters({ pw: 'hunter2' }, specs));
    expect(err.message).not.toContain('hunter2');
    expect(JSON.stringify(err.context)).not.toContain('hunter2');
  });

  it('leaves values without a spec unchanged', () => {
    expect(castParameters({ other: '5' }, specs)).toEqual({ other: '5' });
  });
});

describe('validateParameters', () => {
  const specs: Record<string, ParameterSpec> = {
    cmd: { type: 'string', required: true },
    timeout: { type: 'integer', default: 60 },
    level: { type: 'string', enum: ['INFO', 'DEBUG'] },
    env: { type: 'object' },
    hosts: { type: 'array', items: { type: 'string' } },
    schema: { type: 'object', properties: { name: { type: 'string', required: true } } },
  };

  it('accepts valid values and nulls for optional parameters', () => {
    expect(() =>
      validateParameters(
        { cmd: 'ls', timeout: 5, level: 'INFO', env: { A: '1' }, hosts: ['a'], schema: { name: 'x' } },
        specs,
      ),
    ).not.toThrow();
    expect(() => validateParameters({ cmd: 'ls', level: null }, specs)).not.toThrow();
  });

  it('rejects unknown parameters in st2 style', () => {
    const err = thrown(() => validateParameters({ cmd: 'ls', bogus: 1 }, specs));
    expect(err.code).toBe('PARAM_UNKNOWN');
    expect(err.message).toContain("Additional properties are not allowed ('bogus' was unexpected)");
    expect(err.context.parameter).toBe('bogus');
  });

  it('rejects missing required parameters', () => {
    const err = thrown(() => validateParameters({ timeout: 1 }, specs));
    expect(err.code).toBe('PARAM_REQUIRED');
    expect(err.message).toContain("'cmd' is a required property");
  });

  it('rejects wrong types naming the parameter', () => {
    const err = thrown(() => validateParameters({ cmd: 'ls', timeout: 'soon' }, specs));
    expect(err.code).toBe('PARAM_INVALID');
    expect(err.message).toContain('Parameter "timeout"');
    expect(err.message).toContain("is not of type 'integer'");
  });

  it('rejects values outside the enum naming the parameter', () => {
    const err = thrown(() => validateParameters({ cmd: 'ls', level: 'TRACE' }, specs));
    expect(err.message).toContain('Parameter "level"');
    expect(err.message).toContain('INFO');
  });

  it('checks nested schemas, including st2 per-property required', () => {
    expect(thrown(() => validateParameters({ cmd: 'ls', hosts: ['a', 2] }, specs)).message).toContain(
      'Parameter "hosts" at 1',
    );
    expect(thrown(() => validateParameters({ cmd: 'ls', schema: {} }, specs)).message).toContain(
      "'name' is a required property",
    );
  });

  it('does not quote a value inside a secret object or list, or at a secret key of a plain one', () => {
    const nested: Record<string, ParameterSpec> = {
      creds: { type: 'object', secret: true, properties: { pin: { type: 'integer' } } },
      keys: { type: 'array', items: { type: 'integer', secret: true } },
      plain: {
        type: 'object',
        properties: { key: { type: 'integer', secret: true }, n: { type: 'integer' } },
      },
    };
    for (const values of [
      { creds: { pin: 'hunter2' } },
      { keys: ['hunter2'] },
      { plain: { key: 'hunter2' } },
    ]) {
      const err = thrown(() => validateParameters(values, nested));
      expect(err.message).toMatch(/the value is not of type 'integer'/);
      expect(JSON.stringify(err)).not.toContain('hunter2');
    }
    // What is not secret is still quoted, to say what was wrong with it.
    expect(thrown(() => validateParameters({ plain: { n: 'seven' } }, nested)).message).toContain('"seven"');
  });

  it('lists every problem in the error context', () => {
    const err = thrown(() => validateParameters({ timeout: 'x', bogus: true }, specs));
    const params = (err.context.errors as Array<{ parameter: string }>).map((e) => e.parameter).sort();
    expect(params).toEqual(['bogus', 'cmd', 'timeout']);
  });
});
