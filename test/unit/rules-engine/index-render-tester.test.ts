import { describe, expect, it } from 'vitest';
import { RuleIndex, renderRuleParameters, testRule } from '../../../src/rules/index.js';
import type { RuleRecord } from '../../../src/store/index.js';
import { triggerRefFor } from '../../../src/triggers/index.js';

const rule = (
  name: string,
  trigger: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): RuleRecord =>
  ({
    id: name,
    ref: `p.${name}`,
    uid: `rule:p:${name}`,
    pack: 'p',
    name,
    enabled: true,
    trigger,
    action: { ref: 'core.noop', parameters: {} },
    ...extra,
  }) as RuleRecord;

describe('RuleIndex', () => {
  it('finds enabled rules by trigger ref and webhook bindings by url', () => {
    const index = new RuleIndex();
    index.set([
      rule('a', { type: 'p.event' }),
      rule('b', { type: 'p.event' }, { enabled: false }),
      rule('c', { type: 'core.st2.webhook', parameters: { url: '/hook/' } }),
      rule('d', { type: 'core.st2.webhook', parameters: { url: 'hook' } }),
    ]);
    expect(index.candidates('p.event').map((r) => r.ref)).toEqual(['p.a']);
    const bindings = index.webhook('hook');
    expect(bindings).toHaveLength(1);
    expect(bindings[0].rules.map((r) => r.ref)).toEqual(['p.c', 'p.d']);
    expect(index.candidates(bindings[0].triggerRef)).toHaveLength(2);
    expect(bindings[0].triggerRef).toBe(triggerRefFor('core.st2.webhook', { url: 'hook' }));
    expect(index.webhook('other')).toEqual([]);
  });
});

describe('renderRuleParameters', () => {
  const ctx = { trigger: { body: { items: [1, 2], name: 'x' } }, st2kv: { system: { k: 'v' }, user: {} } };
  it('renders top-level strings to strings and keeps native types of nested single expressions', () => {
    const out = renderRuleParameters(
      'p.r',
      {
        cmd: 'echo {{ trigger.body.name }} {{ st2kv.system.k }}',
        n: 3,
        data: { items: '{{ trigger.body.items }}' },
      },
      ctx,
    );
    expect(out).toEqual({ cmd: 'echo x v', n: 3, data: { items: [1, 2] } });
  });
  it('names the rule and the parameter when rendering fails', () => {
    expect(() => renderRuleParameters('p.r', { cmd: '{{ trigger | nope }}' }, ctx)).toThrow(
      /rule "p.r": failed to render action parameter "cmd"/,
    );
  });
});

describe('testRule', () => {
  const r = {
    name: 'r',
    pack: 'p',
    trigger: { type: 'p.event' },
    criteria: {
      'trigger.level': { type: 'gt', pattern: 2 },
      'trigger.env': { type: 'equals', pattern: 'prod' },
    },
    action: { ref: 'core.local', parameters: { cmd: 'page {{ trigger.env }}' } },
  };
  it('reports a match with rendered parameters', () => {
    const report = testRule(r, { trigger: 'p.event', payload: { level: 3, env: 'prod' } });
    expect(report).toMatchObject({ matches: true, action: 'core.local', parameters: { cmd: 'page prod' } });
  });
  it('reports every criterion and the first failing one', () => {
    const report = testRule(r, { trigger: 'p.event', payload: { level: 1, env: 'dev' } });
    expect(report.matches).toBe(false);
    expect(report.criteria.map((c) => c.matched)).toEqual([false, false]);
    expect(report.failed).toMatchObject({
      key: 'trigger.level',
      operator: 'greaterthan',
      pattern: 2,
      value: 1,
    });
  });
});
