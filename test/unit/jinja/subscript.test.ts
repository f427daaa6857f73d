import { describe, expect, it } from 'vitest';
import {
  evaluateJinja,
  findTemplateVariables,
  renderTemplate,
} from '../../../src/workflows/expressions/jinja/index.js';

const ctx = {
  address: '10.20.30.0',
  ts: '2026-12-06T07:30:00.123456Z',
  hosts: ['web1', 'web2', 'web3', 'db1'],
  byKey: { '-1': 'the key "-1"' },
};

describe("Python subscripts in Jinja, as Jinja2 evaluates them (st2's executions_list alias, menandmice)", () => {
  it('renders slices and negative indexes of strings and lists', () => {
    const cases: Array<[string, string]> = [
      // st2 pack's executions_list alias result and menandmice's test_range workflow
      ['{{ ts[:19]|replace("T", " ") }}', '2026-12-06 07:30:00'],
      ['{{ address[:-1] }}1', '10.20.30.1'],
      ['{{ address[3:] }}', '20.30.0'],
      ['{{ hosts[1:3] }}', "['web2', 'web3']"],
      ['{{ hosts[::2] }}', "['web1', 'web3']"],
      ['{{ hosts[::-1] | join(",") }}', 'db1,web3,web2,web1'],
      ['{{ hosts[10:] }}', '[]'],
      ['{{ hosts[-2:] | length }}', '2'],
      ['{{ hosts[:] | join(",") }}', 'web1,web2,web3,db1'],
      ['{{ hosts[-1] }}', 'db1'],
      ['{{ address[-1] }}', '0'],
      ['{{ address.split(".")[-2] }}', '30'],
      ['{{ hosts[-9] is defined }}', 'False'],
      ['{{ byKey[-1] }}', 'the key "-1"'],
      ['{{ [1, 2, 3][1:][0] }}', '2'],
    ];
    for (const [template, expected] of cases) expect(renderTemplate(template, ctx), template).toBe(expected);
  });

  it('a slice keeps its type in an Orquesta expression', () => {
    expect(evaluateJinja('{{ hosts[1:] }}', ctx)).toEqual(['web2', 'web3', 'db1']);
    expect(evaluateJinja('{{ ts[:10] }}', ctx)).toBe('2026-12-06');
  });

  it("a zero step or a bound that is not an integer is refused, naming it, as Python's slice is", () => {
    expect(() => renderTemplate('{{ hosts[::0] }}', ctx)).toThrow(/slice step cannot be zero/);
    expect(() => renderTemplate('{{ hosts["a":] }}', ctx)).toThrow(/slice start must be an integer or None/);
    expect(() => renderTemplate('{{ hosts[1,2] }}', ctx)).toThrow(/invalid index/);
  });

  it('variables inside slice bounds are found', () => {
    expect([...findTemplateVariables('{{ hosts[first:last] }}')].sort()).toEqual(['first', 'hosts', 'last']);
  });
});
